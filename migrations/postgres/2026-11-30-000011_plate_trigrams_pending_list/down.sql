ALTER INDEX vehicles_license_plate_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX vehicles_license_plate_trgm_idx SET (fastupdate = off);
-- Turning fastupdate off leaves what is pending in the list: fold it in.
SELECT gin_clean_pending_list('vehicles_license_plate_trgm_idx');
