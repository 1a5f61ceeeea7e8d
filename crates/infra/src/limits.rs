//! Request budgets: in this process ([`LocalBudgets`], on `governor`), or
//! shared by every instance through Redis ([`SharedBudgets`]), which falls
//! back to counting alone while Redis cannot answer.

mod local;
mod redis;

pub use local::LocalBudgets;
pub use redis::SharedBudgets;
