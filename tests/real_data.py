"""What ``../shared/data/dental-xray`` holds, as its README states it (tests check our readers against it)."""

DENTAL_IMAGES = 1017
DENTAL_COUNTS = {"Cavity": 473, "Fillings": 4927, "Impacted Tooth": 421, "Implant": 1647}
