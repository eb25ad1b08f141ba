"""``empathic eval ...``: accuracy, F1, recall, confusion and calibration on labelled folders."""
