-- Reminders of one kind (the inspections, say) read the due plans of that
-- kind only: each part of the due plans (by date, by distance) is then one
-- range of one index, not the range of every kind filtered plan by plan.
CREATE INDEX IF NOT EXISTS care_plans_kind_next_due_on ON care_plans (kind, next_due_on, id) WHERE next_due_on IS NOT NULL;
CREATE INDEX IF NOT EXISTS care_plans_kind_km_left ON care_plans (kind, km_left) WHERE km_left IS NOT NULL;
-- The parts by date come in (date, plan) order straight from the index, so
-- a page joins its 50 plans to their vehicles, not every plan of its first
-- date (SQLite's index on the date ends with the row id already).
CREATE INDEX IF NOT EXISTS care_plans_next_due_on_id ON care_plans (next_due_on, id) WHERE next_due_on IS NOT NULL;
DROP INDEX IF EXISTS care_plans_next_due_on;
