// Words for plugins: document versions, declared security schemes and auth methods.
import type { AuthScheme, PluginAuth, SpecVersion } from "../api/bindings";
import { t } from "../i18n/i18n.svelte";

export function specVersionName(v: SpecVersion): string {
  return v === "swagger_2" ? "Swagger 2.0" : v === "openapi_3_0" ? "OpenAPI 3.0" : "OpenAPI 3.1";
}

/** A security scheme the document declares, in a short phrase. */
export function schemeText(s: AuthScheme): string {
  switch (s.type) {
    case "api_key":
      return t("auth.scheme.apiKey", { name: s.param_name, location: t(`auth.location.${s.location}`) });
    case "bearer":
      return t("auth.scheme.bearer");
    case "basic":
      return t("auth.scheme.basic");
    case "oauth2_client_credentials":
      return t("auth.scheme.oauth2", { url: s.token_url });
    case "unsupported":
      return t("auth.scheme.unsupported", { kind: s.kind });
  }
}

/** The auth method of a plugin, in a short phrase (list rows). */
export function authText(auth: PluginAuth | string): string {
  const type = typeof auth === "string" ? auth : auth.type;
  switch (type) {
    case "none":
      return t("auth.none");
    case "api_key":
      return t("auth.apiKey");
    case "bearer":
      return t("auth.bearer");
    case "oauth2_client_credentials":
      return t("auth.oauth2");
    default:
      return type;
  }
}

/** The auth method the document suggests, as a starting point for the form. */
export function authFromScheme(s: AuthScheme): PluginAuth | null {
  switch (s.type) {
    case "api_key":
      return { type: "api_key", location: s.location, param_name: s.param_name };
    case "bearer":
      return { type: "bearer" };
    case "oauth2_client_credentials":
      return { type: "oauth2_client_credentials", token_url: s.token_url, client_id: "", scopes: [...s.scopes] };
    default:
      return null;
  }
}
