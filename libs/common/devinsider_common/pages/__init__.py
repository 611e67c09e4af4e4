"""The page-access model shared by company, investor and program pages: members with a page role,
invitations, and the permission check other services ask for. Written once, used by all three."""
