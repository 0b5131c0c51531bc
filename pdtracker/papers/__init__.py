"""Papers a teacher hands over: certificates, hours statements, portfolios; their check."""
