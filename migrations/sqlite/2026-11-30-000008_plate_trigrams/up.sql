-- Part of a plate, found by trigram as PostgreSQL's pg_trgm does: the
-- plates mirrored into an FTS5 index (its trigram tokenizer answers
-- LIKE '%abc%' from the index), kept by triggers in the writes' own
-- transactions.
CREATE VIRTUAL TABLE vehicle_plates USING fts5(
    license_plate,
    content = 'vehicles',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO vehicle_plates (rowid, license_plate) SELECT id, license_plate FROM vehicles;

CREATE TRIGGER vehicle_plates_insert AFTER INSERT ON vehicles BEGIN
    INSERT INTO vehicle_plates (rowid, license_plate) VALUES (new.id, new.license_plate);
END;
CREATE TRIGGER vehicle_plates_delete AFTER DELETE ON vehicles BEGIN
    INSERT INTO vehicle_plates (vehicle_plates, rowid, license_plate)
        VALUES ('delete', old.id, old.license_plate);
END;
CREATE TRIGGER vehicle_plates_update AFTER UPDATE OF license_plate ON vehicles BEGIN
    INSERT INTO vehicle_plates (vehicle_plates, rowid, license_plate)
        VALUES ('delete', old.id, old.license_plate);
    INSERT INTO vehicle_plates (rowid, license_plate) VALUES (new.id, new.license_plate);
END;
