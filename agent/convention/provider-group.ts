/**
 * The link group (IFLA_GROUP, `ip link set dev IF group N`) guestnet gives
 * every provider link: 0x676e, "gn". The firewall matches provider links by
 * it (`meta iifgroup`/`oifgroup`), so the table never changes on hotplug.
 */
export const PROVIDER_GROUP = 0x676e;
