"""Meters nobody wired: readings typed in from a dial and quantities from invoices or deliveries,
entered in the app or imported from CSV/XLSX, and the meter replacements every counter's
consumption needs (issue 16, item 2)."""
