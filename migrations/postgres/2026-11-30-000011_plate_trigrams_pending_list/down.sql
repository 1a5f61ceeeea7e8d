ALTER INDEX vehicles_license_plate_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX vehicles_license_plate_trgm_idx SET (fastupdate = off);
