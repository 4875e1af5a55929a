-- Database roles for production PostgreSQL (docs/deploy.md, "Database roles").
--
-- The application must not own its tables: the owner can switch off the audit trail's
-- append-only triggers, and a stolen application password must not be able to do that.
-- athar_owner owns the schema and runs the migrations (`make deploy`) and the backups;
-- athar_app is what the app servers log in as: it reads and writes rows, nothing more.
--
-- Run once as a superuser, connected to the application's database (here "athar"):
--   sudo -u postgres createdb athar
--   sudo -u postgres psql -v ON_ERROR_STOP=1 -d athar -f docs/postgres-roles.sql
--   sudo -u postgres psql -d athar -c '\password athar_owner' -c '\password athar_app'
-- tests/ops/test_database_roles.py runs this file as it stands.

CREATE ROLE athar_owner LOGIN;
CREATE ROLE athar_app LOGIN;
ALTER SCHEMA public OWNER TO athar_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO athar_app;
-- Every table and sequence the owner's migrations create from now on.
ALTER DEFAULT PRIVILEGES FOR ROLE athar_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO athar_app;
ALTER DEFAULT PRIVILEGES FOR ROLE athar_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO athar_app;
