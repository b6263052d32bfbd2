DROP TABLE sessions;
DROP TABLE site_admins;
DROP TABLE sites;
