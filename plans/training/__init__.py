"""Officials' legal training (干部学法): officials, courses, attendance and yearly compliance."""
