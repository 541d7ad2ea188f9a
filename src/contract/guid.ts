/** The shape of an Entra id (tenant, group, object): a GUID, in any case. Shared by config, rules and the core. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
