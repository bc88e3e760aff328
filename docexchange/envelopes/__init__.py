"""Exchange formats: edXML (QCVN 102:2016/BTTTT)."""
