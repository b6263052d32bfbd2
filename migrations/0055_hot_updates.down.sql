ALTER TABLE users RESET (fillfactor);
ALTER TABLE sessions RESET (fillfactor);
