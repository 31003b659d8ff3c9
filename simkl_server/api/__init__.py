"""The HTTP edge: parse, make one domain call, render. No SQL and no business rules here."""
