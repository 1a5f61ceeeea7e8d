CREATE INDEX care_plans_next_due_on ON care_plans (next_due_on) WHERE next_due_on IS NOT NULL;
DROP INDEX care_plans_next_due_on_id;
DROP INDEX care_plans_kind_km_left;
DROP INDEX care_plans_kind_next_due_on;
