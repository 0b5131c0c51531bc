"""Check-in at the door: rotating signed QR codes, the teacher's one-tap page, exports."""
