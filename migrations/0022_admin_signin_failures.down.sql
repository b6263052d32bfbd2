DROP TABLE IF EXISTS admin_signin_failures;
