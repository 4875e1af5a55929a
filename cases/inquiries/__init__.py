"""Family inquiries: the public channel for families and the intake queue for caseworkers."""
