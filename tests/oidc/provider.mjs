// A real OpenID Connect provider for the test suite: panva's node-oidc-provider (OpenID
// Certified), with one client and its development login screens (any user name signs in as
// that account; the password is ignored). Settings come from the environment:
//   OIDC_PORT           port to listen on (127.0.0.1)
//   OIDC_CLIENT_ID      the one client's id and secret
//   OIDC_CLIENT_SECRET
//   OIDC_REDIRECT_URI   the client's redirect URI (Streamlit: http://host:port/oauth2callback)
// The e-mail claim of account "x" is "x@lab.example", verified (email_verified: true); account
// "unverified-x" claims the same "x@lab.example" with email_verified: false (an address a user
// typed into their profile, which the provider has not checked). Never use this outside tests.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    // st.logout ends the provider's session too and comes back to the same URI
    post_logout_redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: true } },
  // Streamlit's st.user holds the ID token's claims: put the e-mail there (as Azure AD, Okta
  // and Keycloak do), not only behind the userinfo endpoint.
  conformIdTokenClaims: false,
  pkce: { required: () => false },
  cookies: { keys: ['doe-test-only-cookie-key'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        const unverified = id.startsWith('unverified-');
        const user = unverified ? id.slice('unverified-'.length) : id;
        return { sub: id, email: `${user}@lab.example`, email_verified: !unverified, name: id };
      },
    };
  },
});
provider.proxy = false;
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
