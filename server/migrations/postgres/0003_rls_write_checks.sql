-- Writes are allowed only in the tenant's own scope: the lookup scopes (`app.user_id`,
-- `app.api_key`, `app.invitation`) may read their rows but never write a row of a tenant
-- the transaction has not named in `app.tenant_id`.
ALTER POLICY workspaces_scope ON workspaces
    WITH CHECK (id = current_setting('app.tenant_id', true));
ALTER POLICY memberships_scope ON memberships
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
ALTER POLICY invitations_scope ON invitations
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
ALTER POLICY api_keys_scope ON api_keys
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
