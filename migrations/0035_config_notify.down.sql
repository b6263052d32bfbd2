DROP TRIGGER sites_changed ON sites;
DROP FUNCTION portal_sites_changed();
DROP TRIGGER sp_keys_changed ON sp_keys;
DROP TRIGGER idp_certificates_changed ON idp_certificates;
DROP TRIGGER sso_settings_changed ON sso_settings;
DROP FUNCTION portal_site_config_changed();
