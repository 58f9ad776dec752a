// A real OpenID Connect provider for the tests: node provider.mjs CONFIG.json
// CONFIG: {"port", "issuer", "clients": [...], "accounts": {"<login>": {claims}}, "jwks": {"keys": [...]}}
// It prints "ready <issuer>" once it listens on 127.0.0.1. Its dev login form accepts any
// password; the login names an account of CONFIG.accounts.
import fs from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,  // put email in the ID token itself, as most providers do
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: config.id_token_ttl || 3600 },
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`ready ${config.issuer}`);
});
