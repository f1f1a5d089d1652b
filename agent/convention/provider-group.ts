export const PROVIDER_GROUP = 0x676e;
