DROP TABLE vehicles;
DROP TABLE garages;
