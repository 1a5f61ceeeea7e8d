DROP INDEX care_plans_kind_km_left;
DROP INDEX care_plans_kind_next_due_on;
