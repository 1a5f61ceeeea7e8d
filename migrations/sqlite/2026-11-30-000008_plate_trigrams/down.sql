DROP TRIGGER vehicle_plates_update;
DROP TRIGGER vehicle_plates_delete;
DROP TRIGGER vehicle_plates_insert;
DROP TABLE vehicle_plates;
