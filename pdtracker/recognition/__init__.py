"""Recognition (认定): rounds, applications, review and the recognitions they produce."""
