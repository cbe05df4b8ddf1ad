// The OpenID Connect provider the e2e tests start (tests/tests/sign_in.rs): the real
// `oidc-provider` on 127.0.0.1, a random port. It prints `listening <port>` and waits
// for `POST /_test/configure {"client_id","client_secret","redirect_uris"}` (heepr's
// port is known only once heepr runs), then serves as the issuer http://127.0.0.1:<port>.
//
// Test hooks (never a mock of heepr's side: the flow is the provider's own):
// - the login step signs in the account named by `login_hint` (default `alice`); an
//   account whose name starts with `unverified` has `email_verified: false`;
// - `POST /_test/mode {"mode"}` makes the token endpoint hand out, in place of the real
//   ID token, one with a forged claim re-signed with the provider's key
//   (`wrong_issuer`, `wrong_audience`, `wrong_nonce`) or the real claims signed by
//   another key under the same key id (`wrong_key`); `normal` restores it.
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const KID = 'k1';
const keyPair = async () => {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { jwk: { ...jwk, kid: KID, alg: 'RS256', use: 'sig' }, key: privateKey };
};
const real = await keyPair();
const other = await keyPair();
let mode = 'normal';
let provider = null;
let issuer = '';

const body = (req) => new Promise((resolve, reject) => {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => { try { resolve(data ? JSON.parse(data) : {}); } catch (e) { reject(e); } });
  req.on('error', reject);
});

const reply = (res, status, value) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

async function forge(idToken) {
  const claims = jose.decodeJwt(idToken);
  let key = real.key;
  if (mode === 'wrong_issuer') claims.iss = 'http://issuer.invalid';
  if (mode === 'wrong_audience') claims.aud = 'another-client';
  if (mode === 'wrong_nonce') claims.nonce = 'not-the-nonce-heepr-sent';
  if (mode === 'wrong_key') key = other.key;
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID }).sign(key);
}

function configure({ client_id, client_secret, redirect_uris }) {
  provider = new Provider(issuer, {
    clients: [{
      client_id, client_secret, redirect_uris,
      grant_types: ['authorization_code'], response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [real.jwk] },
    cookies: { keys: ['heepr-test-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Scope claims in the ID token itself (heepr reads the ID token, not userinfo).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: `${id}@example.test`, email_verified: !id.startsWith('unverified'), name: `User ${id}` };
        },
      };
    },
    // Consent is granted at once: the test plays a user who always agrees.
    async loadExistingGrant(ctx) {
      if (!ctx.oidc.session.accountId) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && mode !== 'normal' && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: await forge(ctx.body.id_token) };
    }
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (req.method === 'POST' && url.pathname === '/_test/configure') {
      configure(await body(req));
      return reply(res, 200, { issuer });
    }
    if (req.method === 'POST' && url.pathname === '/_test/mode') {
      mode = (await body(req)).mode;
      return reply(res, 200, { mode });
    }
    if (!provider) return reply(res, 503, { error: 'not configured' });
    if (req.method === 'GET' && url.pathname.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      const accountId = details.params.login_hint || 'alice';
      const result = details.prompt.name === 'login' ? { login: { accountId } } : {};
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    return provider.callback()(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) reply(res, 500, { error: String(e) });
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  console.log(`listening ${port}`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
