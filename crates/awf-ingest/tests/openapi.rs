//! The OpenAPI/Swagger importer against real public specs (checked in under
//! `tests/fixtures/openapi/`), broken documents (each naming the pointer, the line and why),
//! the limits, and property tests that no input makes it panic.

use awf_ingest::openapi::{
    import, limits, AuthScheme, ImportedApi, KeyLocation, ParamLocation, SpecError, SpecVersion, Tool,
};
use serde_json::json;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/openapi/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn imported(name: &str) -> ImportedApi {
    import(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn tool<'a>(api: &'a ImportedApi, name: &str) -> &'a Tool {
    api.tools.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no tool `{name}`"))
}

fn names(api: &ImportedApi) -> Vec<&str> {
    api.tools.iter().map(|t| t.name.as_str()).collect()
}

/// (name, location, required) of a tool's parameters.
fn params(tool: &Tool) -> Vec<(&str, ParamLocation, bool)> {
    tool.parameters.iter().map(|p| (p.name.as_str(), p.location, p.required)).collect()
}

// ---------------------------------------------------------------------------------------------
// Fixtures

#[test]
fn swagger2_petstore() {
    let api = imported("petstore-swagger2.json");
    assert_eq!(api.spec_version, SpecVersion::Swagger2);
    assert_eq!(api.title, "Swagger Petstore");
    assert_eq!(api.version, "1.0.7");
    assert!(api.description.starts_with("This is a sample server Petstore server."));
    assert_eq!(api.servers, ["https://petstore.swagger.io/v2", "http://petstore.swagger.io/v2"]);
    assert_eq!(
        names(&api),
        [
            "uploadFile",
            "addPet",
            "updatePet",
            "findPetsByStatus",
            "getPetById",
            "updatePetWithForm",
            "deletePet",
            "getInventory",
            "placeOrder",
            "getOrderById",
            "deleteOrder",
            "createUsersWithListInput",
            "getUserByName",
            "updateUser",
            "deleteUser",
            "loginUser",
            "logoutUser",
            "createUsersWithArrayInput",
            "createUser",
        ]
    );
    // findPetsByTags is deprecated: checked, skipped, said.
    assert_eq!(api.warnings, ["skipped deprecated operation GET /pet/findByTags (`findPetsByTags`)"]);
    assert_eq!(
        api.auth_schemes,
        [
            AuthScheme::ApiKey {
                scheme: "api_key".into(),
                param_name: "api_key".into(),
                location: KeyLocation::Header
            },
            AuthScheme::Unsupported { scheme: "petstore_auth".into(), kind: "oauth2 implicit".into() },
        ]
    );

    // `in: body` becomes the request body; `consumes` lists JSON first.
    let add = tool(&api, "addPet");
    assert_eq!((add.method.as_str(), add.path.as_str()), ("POST", "/pet"));
    assert_eq!(add.summary, "Add a new pet to the store");
    assert!(add.parameters.is_empty());
    assert_eq!(add.security, ["petstore_auth"]);
    let body = add.request_body.as_ref().unwrap();
    assert_eq!((body.content_type.as_str(), body.required), ("application/json", true));
    assert_eq!(body.schema["required"], json!(["name", "photoUrls"]));
    // `#/definitions/Category` inlined; a `$ref`'s siblings (`xml`) are ignored in 2.0.
    assert_eq!(
        body.schema["properties"]["category"]["properties"]["id"],
        json!({"type": "integer", "format": "int64"})
    );
    assert_eq!(body.schema["properties"]["tags"]["items"]["xml"], json!({"name": "Tag"}));
    assert_eq!(body.schema["properties"]["status"]["enum"], json!(["available", "pending", "sold"]));

    // formData with a file: multipart, properties per field, the file as binary.
    let upload = tool(&api, "uploadFile");
    assert_eq!(params(upload), [("petId", ParamLocation::Path, true)]);
    assert_eq!(upload.parameters[0].schema, json!({"type": "integer", "format": "int64"}));
    assert_eq!(upload.parameters[0].description, "ID of pet to update");
    let body = upload.request_body.as_ref().unwrap();
    assert_eq!((body.content_type.as_str(), body.required), ("multipart/form-data", false));
    assert_eq!(
        body.schema,
        json!({"type": "object", "properties": {
            "additionalMetadata": {"type": "string", "description": "Additional data to pass to server"},
            "file": {"type": "string", "format": "binary", "description": "file to upload"},
        }})
    );
    let form = tool(&api, "updatePetWithForm").request_body.as_ref().unwrap();
    assert_eq!(form.content_type, "application/x-www-form-urlencoded");

    // Non-body parameters: their schema keywords, array items included.
    let by_status = tool(&api, "findPetsByStatus");
    assert_eq!(params(by_status), [("status", ParamLocation::Query, true)]);
    assert_eq!(
        by_status.parameters[0].schema,
        json!({"type": "array", "items": {
            "type": "string", "enum": ["available", "pending", "sold"], "default": "available"}})
    );
    let delete = tool(&api, "deletePet");
    assert_eq!(params(delete), [("api_key", ParamLocation::Header, false), ("petId", ParamLocation::Path, true)]);
    assert_eq!(delete.method, "DELETE");
    let order = tool(&api, "getOrderById");
    assert_eq!(order.parameters[0].schema, json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": 10}));
    assert!(order.security.is_empty());
    assert_eq!(tool(&api, "getInventory").security, ["api_key"]);
    assert_eq!(
        params(tool(&api, "loginUser")),
        [("username", ParamLocation::Query, true), ("password", ParamLocation::Query, true)]
    );
    let list = tool(&api, "createUsersWithListInput").request_body.as_ref().unwrap();
    assert_eq!(list.schema["type"], "array");
    assert_eq!(list.schema["items"]["properties"]["userStatus"]["description"], "User Status");
}

#[test]
fn openapi30_petstore_yaml() {
    let api = imported("petstore.yaml");
    assert_eq!(api.spec_version, SpecVersion::OpenApi30);
    assert_eq!((api.title.as_str(), api.version.as_str()), ("Swagger Petstore", "1.0.0"));
    assert_eq!(api.servers, ["http://petstore.swagger.io/v1"]);
    assert_eq!(names(&api), ["listPets", "createPets", "showPetById"]);
    assert!(api.auth_schemes.is_empty());
    assert!(api.warnings.is_empty());

    let list = tool(&api, "listPets");
    assert_eq!((list.method.as_str(), list.path.as_str(), list.summary.as_str()), ("GET", "/pets", "List all pets"));
    assert_eq!(params(list), [("limit", ParamLocation::Query, false)]);
    assert_eq!(list.parameters[0].description, "How many items to return at one time (max 100)");
    assert_eq!(list.parameters[0].schema, json!({"type": "integer", "maximum": 100, "format": "int32"}));
    assert!(list.request_body.is_none());
    assert!(list.security.is_empty());

    let create = tool(&api, "createPets");
    assert_eq!(create.method, "POST");
    let body = create.request_body.as_ref().unwrap();
    assert_eq!((body.content_type.as_str(), body.required), ("application/json", true));
    assert_eq!(
        body.schema,
        json!({"type": "object", "required": ["id", "name"], "properties": {
            "id": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "tag": {"type": "string"},
        }})
    );

    let show = tool(&api, "showPetById");
    assert_eq!(show.path, "/pets/{petId}");
    assert_eq!(params(show), [("petId", ParamLocation::Path, true)]);
    assert_eq!(show.parameters[0].schema, json!({"type": "string"}));
}

#[test]
fn openapi30_petstore_expanded() {
    let api = imported("petstore-expanded.yaml");
    assert_eq!(api.spec_version, SpecVersion::OpenApi30);
    assert!(api.description.starts_with("A sample API that uses a petstore"));
    assert_eq!(api.servers, ["https://petstore.swagger.io/v2"]);
    // An operationId with spaces is kept as written.
    assert_eq!(names(&api), ["findPets", "addPet", "find pet by id", "deletePet"]);

    let find = tool(&api, "findPets");
    assert!(find.description.starts_with("Returns all pets from the system that the user has access to\n"));
    assert_eq!(params(find), [("tags", ParamLocation::Query, false), ("limit", ParamLocation::Query, false)]);
    assert_eq!(find.parameters[0].schema, json!({"type": "array", "items": {"type": "string"}}));

    let add = tool(&api, "addPet");
    let body = add.request_body.as_ref().unwrap();
    assert_eq!((body.content_type.as_str(), body.required), ("application/json", true));
    assert_eq!(body.schema["required"], json!(["name"]));
    assert_eq!(body.schema["properties"]["tag"], json!({"type": "string"}));

    let by_id = tool(&api, "find pet by id");
    assert_eq!((by_id.method.as_str(), by_id.path.as_str()), ("GET", "/pets/{id}"));
    assert_eq!(params(by_id), [("id", ParamLocation::Path, true)]);
    assert_eq!(by_id.parameters[0].schema, json!({"type": "integer", "format": "int64"}));
    assert_eq!(tool(&api, "deletePet").method, "DELETE");
}

#[test]
fn openapi31_webhooks_only() {
    let api = imported("webhook-example.yaml");
    assert_eq!(api.spec_version, SpecVersion::OpenApi31);
    assert_eq!(api.title, "Webhook Example");
    assert!(api.tools.is_empty());
    assert!(api.servers.is_empty());
    assert_eq!(
        api.warnings,
        [
            "no `servers`: the base URL must be set by hand",
            "1 webhook(s) not imported: webhooks are requests the API sends, not operations to call",
        ]
    );
}

#[test]
fn oneof_discriminator_refs_and_generated_names() {
    let api = imported("pets-oneof.yaml");
    assert_eq!(api.spec_version, SpecVersion::OpenApi30);
    assert_eq!(api.version, "2.1");
    assert_eq!(
        names(&api),
        [
            "listPets",
            "addPet",
            "get_pets_by_petId",
            "patch_pets_by_petId",
            "get_categories_by_categoryId_tree",
            "replaceCategoryTree",
        ]
    );
    assert_eq!(api.warnings, ["skipped deprecated operation DELETE /pets/{petId} (`delete_pets_by_petId`)"]);
    assert_eq!(
        api.auth_schemes,
        [AuthScheme::ApiKey { scheme: "petKey".into(), param_name: "key".into(), location: KeyLocation::Query }]
    );

    // Path-level parameters first (by $ref), then the operation's; its `limit` wins.
    let list = tool(&api, "listPets");
    assert_eq!(
        params(list),
        [
            ("X-Trace-Id", ParamLocation::Header, false),
            ("limit", ParamLocation::Query, false),
            ("session", ParamLocation::Cookie, false)
        ]
    );
    assert_eq!(list.parameters[0].description, "correlates logs");
    assert_eq!(list.parameters[1].description, "how many pets at most");
    assert_eq!(list.parameters[1].schema, json!({"type": "integer", "minimum": 1, "maximum": 50, "default": 20}));
    assert_eq!(list.security, ["petKey"]);
    // Without an own `limit`, the path-level one applies.
    let add = tool(&api, "addPet");
    assert_eq!(add.parameters[1].description, "path-level limit (the operation's own wins)");

    // A request body by $ref; JSON preferred over XML; oneOf/allOf kept with refs inlined.
    let body = add.request_body.as_ref().unwrap();
    assert_eq!((body.content_type.as_str(), body.required), ("application/json", true));
    let base = json!({"type": "object", "required": ["petType", "name"], "properties": {
        "petType": {"type": "string"}, "name": {"type": "string"}}});
    assert_eq!(
        body.schema["oneOf"][0],
        json!({"allOf": [base, {"type": "object", "properties": {"huntingSkill": {
            "type": "string", "enum": ["clueless", "lazy", "adventurous", "aggressive"]}}}]})
    );
    assert_eq!(body.schema["oneOf"][1]["allOf"][1]["properties"]["packSize"], json!({"type": "integer", "minimum": 0}));
    assert_eq!(
        body.schema["discriminator"],
        json!({"propertyName": "petType", "mapping": {
            "cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"}})
    );

    let get = tool(&api, "get_pets_by_petId");
    assert_eq!(get.summary, "One pet");
    assert_eq!(params(get), [("petId", ParamLocation::Path, true)]);
    assert_eq!(get.parameters[0].schema, json!({"type": "integer", "format": "int64"}));

    // A `+json` media type beats text/plain; `security: []` means none.
    let patch = tool(&api, "patch_pets_by_petId");
    assert_eq!(patch.method, "PATCH");
    assert!(patch.security.is_empty());
    let body = patch.request_body.as_ref().unwrap();
    assert_eq!((body.content_type.as_str(), body.required), ("application/merge-patch+json", false));
    assert_eq!(body.schema["anyOf"][0]["allOf"][0], base);
    assert_eq!(body.schema["anyOf"][1]["properties"]["name"]["nullable"], json!(true));

    let tree = tool(&api, "get_categories_by_categoryId_tree");
    assert_eq!(tree.parameters[0].schema, json!({"type": "string", "format": "uuid"}));

    // A recursive schema stays a $ref after its first expansion.
    let replace = tool(&api, "replaceCategoryTree").request_body.as_ref().unwrap();
    assert_eq!(
        replace.schema,
        json!({"type": "object", "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Category"}},
        }})
    );
}

#[test]
fn openapi31_security_schemes_servers_and_ref_siblings() {
    let api = imported("secured-api.json");
    assert_eq!(api.spec_version, SpecVersion::OpenApi31);
    assert_eq!((api.title.as_str(), api.version.as_str()), ("Reports API", "2024-06-01"));
    // Server variables take their defaults.
    assert_eq!(api.servers, ["https://eu.api.example.com/v2", "http://localhost:8080/v2"]);
    assert_eq!(
        api.auth_schemes,
        [
            AuthScheme::ApiKey {
                scheme: "apiKeyHeader".into(),
                param_name: "X-API-Key".into(),
                location: KeyLocation::Header
            },
            AuthScheme::ApiKey {
                scheme: "apiKeyCookie".into(),
                param_name: "session".into(),
                location: KeyLocation::Cookie
            },
            AuthScheme::Bearer { scheme: "bearerAuth".into() },
            AuthScheme::Basic { scheme: "basicAuth".into() },
            AuthScheme::OAuth2ClientCredentials {
                scheme: "oauthClient".into(),
                token_url: "https://auth.example.com/oauth/token".into(),
                scopes: vec!["read:reports".into(), "write:reports".into()],
            },
            AuthScheme::Unsupported { scheme: "oauthUser".into(), kind: "oauth2 authorizationCode".into() },
            AuthScheme::Unsupported { scheme: "oidc".into(), kind: "openIdConnect".into() },
            AuthScheme::Unsupported { scheme: "digest".into(), kind: "http digest".into() },
        ]
    );
    assert_eq!(names(&api), ["listReports", "createReport", "getReport", "health"]);
    assert!(api.warnings.is_empty());

    let list = tool(&api, "listReports");
    assert_eq!(list.security, ["apiKeyHeader"]);
    assert_eq!(params(list), [("since", ParamLocation::Query, false), ("X-Request-Id", ParamLocation::Header, true)]);
    assert_eq!(list.parameters[0].schema, json!({"type": ["string", "null"], "format": "date"}));

    let create = tool(&api, "createReport");
    assert_eq!(create.security, ["oauthClient", "bearerAuth"]);
    let body = create.request_body.as_ref().unwrap();
    assert_eq!((body.content_type.as_str(), body.required), ("application/json", true));
    // 3.1: a keyword beside `$ref` applies on top of the target.
    assert_eq!(body.schema["description"], "what to report on");
    assert_eq!(body.schema["required"], json!(["kind"]));
    assert_eq!(body.schema["properties"]["kind"], json!({"enum": ["daily", "weekly"]}));
    let filter = &body.schema["properties"]["filters"];
    assert_eq!(filter["properties"]["equals"], json!({"type": ["string", "number", "boolean"]}));
    assert_eq!(filter["properties"]["and"]["items"], json!({"$ref": "#/components/schemas/Filter"}));

    // 3.1: `responses` may be left out.
    let get = tool(&api, "getReport");
    assert_eq!(get.security, ["basicAuth"]);
    assert_eq!(params(get), [("reportId", ParamLocation::Path, true)]);
    assert!(tool(&api, "health").security.is_empty());
}

#[test]
fn generated_names_are_unique() {
    // `get_pets` is taken by an operationId, and `/pets/` has the same words as `/pets`.
    let text = with_paths(
        "  /pets:\n    get: {responses: {}}\n    post: {operationId: get_pets, responses: {}}\n\
         \x20 /pets/:\n    get: {responses: {}}\n  /:\n    get: {responses: {}}\n",
    );
    assert_eq!(names(&import(&text).unwrap()), ["get_pets_2", "get_pets", "get_pets_3", "get_root"]);
}

#[test]
fn yaml_anchors_merges_unquoted_versions_and_escaped_pointers() {
    let text = "swagger: 2.0\n\
                info: {title: t, version: 1.10}\n\
                host: api.example.com\n\
                consumes: [application/x-www-form-urlencoded, multipart/form-data]\n\
                security: [{key: []}]\n\
                securityDefinitions:\n  key: {type: apiKey, name: k, in: query}\n\
                paths:\n\
                \x20 /a~b/{id}:\n\
                \x20   parameters:\n\
                \x20     - &id {name: id, in: path, required: true, type: string}\n\
                \x20   get:\n\
                \x20     parameters:\n\
                \x20       - {<<: *id, name: q, in: query, required: false}\n\
                \x20     responses: {}\n\
                \x20 /c/{id}:\n\
                \x20   put:\n\
                \x20     parameters:\n\
                \x20       - *id\n\
                \x20       - {name: f, in: formData, type: integer, required: true}\n\
                \x20     responses: {}\n\
                \x20   delete:\n\
                \x20     parameters: [{$ref: '#/paths/~1c~1%7Bid%7D/put/parameters/0'}]\n\
                \x20     responses: {}\n";
    let api = import(text).unwrap();
    assert_eq!(api.spec_version, SpecVersion::Swagger2);
    assert_eq!(api.version, "1.10");
    assert_eq!(api.servers, ["https://api.example.com"]);
    let get = tool(&api, "get_a_b_by_id");
    assert_eq!(params(get), [("id", ParamLocation::Path, true), ("q", ParamLocation::Query, false)]);
    assert_eq!(get.parameters[1].schema, json!({"type": "string"}));
    assert_eq!(get.security, ["key"]);
    let put = tool(&api, "put_c_by_id");
    assert_eq!(params(put), [("id", ParamLocation::Path, true)]);
    let body = put.request_body.as_ref().unwrap();
    // The document's `consumes`; the first form type it lists.
    assert_eq!((body.content_type.as_str(), body.required), ("application/x-www-form-urlencoded", true));
    assert_eq!(body.schema, json!({"type": "object", "properties": {"f": {"type": "integer"}}, "required": ["f"]}));
    assert_eq!(params(tool(&api, "delete_c_by_id")), [("id", ParamLocation::Path, true)]);

    // Pointers escape `~` and `/` (RFC 6901).
    let text = with_paths("  /a~b/{id}:\n    get: {responses: {}}\n");
    refused(&text, "/paths/~1a~0b~1{id}/get", Some(6), "parameter `id` is in the path template but not declared");
}

#[test]
fn results_serialise_and_read_back() {
    for name in ["petstore-swagger2.json", "petstore.yaml", "pets-oneof.yaml", "secured-api.json"] {
        let api = imported(name);
        let text = serde_json::to_string(&api).unwrap();
        let back: ImportedApi = serde_json::from_str(&text).unwrap();
        assert_eq!(back, api, "{name}");
    }
}

#[test]
fn json_and_yaml_of_the_same_document_agree() {
    let json_text = serde_json::to_string_pretty(&petstore_as_json()).unwrap();
    assert_eq!(import(&json_text).unwrap(), imported("petstore.yaml"));
}

/// `petstore.yaml` as JSON, written out by hand (response bodies trimmed: they are not read).
fn petstore_as_json() -> serde_json::Value {
    let pet = json!({"type": "object", "required": ["id", "name"], "properties": {
        "id": {"type": "integer", "format": "int64"}, "name": {"type": "string"}, "tag": {"type": "string"}}});
    let error = json!({"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "integer", "format": "int32"}, "message": {"type": "string"}}});
    let error_response = json!({"description": "unexpected error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": "Swagger Petstore", "license": {"name": "MIT"}},
        "servers": [{"url": "http://petstore.swagger.io/v1"}],
        "paths": {
            "/pets": {
                "get": {
                    "summary": "List all pets", "operationId": "listPets", "tags": ["pets"],
                    "parameters": [{"name": "limit", "in": "query",
                        "description": "How many items to return at one time (max 100)", "required": false, "schema": {"type": "integer", "maximum": 100, "format": "int32"}}],
                    "responses": {"200": {"description": "A paged array of pets"}, "default": error_response},
                },
                "post": {
                    "summary": "Create a pet", "operationId": "createPets", "tags": ["pets"],
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                        "required": true,
                    },
                    "responses": {"201": {"description": "Null response"}, "default": error_response},
                },
            },
            "/pets/{petId}": {
                "get": {
                    "summary": "Info for a specific pet", "operationId": "showPetById", "tags": ["pets"],
                    "parameters": [{"name": "petId", "in": "path", "required": true,
                        "description": "The id of the pet to retrieve", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "Expected response to a valid request"}, "default": error_response},
                },
            },
        },
        "components": {"schemas": {"Pet": pet, "Pets": {"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/Pet"}}, "Error": error}},
    })
}

// ---------------------------------------------------------------------------------------------
// Broken documents: each names its place (pointer, line) and why.

#[track_caller]
fn refused(text: &str, pointer: &str, line: Option<u32>, fragment: &str) -> SpecError {
    let e = match import(text) {
        Ok(api) => panic!("accepted, expected an error at {pointer}: {api:?}"),
        Err(e) => e,
    };
    assert_eq!(e.pointer, pointer, "pointer of {e:?}");
    assert_eq!(e.line, line, "line of {e:?}");
    assert!(e.message.contains(fragment), "message of {e:?} lacks {fragment:?}");
    e
}

/// A 3.0 document around `paths` (written at line 4, its entries from line 5).
fn with_paths(paths: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\nservers: [{{url: 'https://x.example'}}]\npaths:\n{paths}"
    )
}

#[test]
fn broken_json_syntax() {
    let text = "{\n  \"openapi\": \"3.0.0\",\n  \"info\": {\"title\": \"t\" \"version\": \"1\"},\n  \"paths\": {}\n}";
    let e = refused(text, "/info", Some(3), "invalid JSON: expected `,` or `}` after a member, found `\"`");
    assert!(e.message.contains("column 25"), "{e:?}");
    refused("{\"openapi\": \"3.0.0\",\n\"info\": ", "/info", Some(2), "unexpected end of input");
    refused("{\"a\": [1, 2,]}", "/a/2", Some(1), "expected a value, found `]`");
}

#[test]
fn broken_yaml_syntax() {
    // An unclosed flow sequence runs to the end of the text (line 8), where it is reported.
    let e = refused(
        &with_paths("  /pets:\n    get: [a, b\n    post: {}\n"),
        "/paths/~1pets/get/2",
        Some(8),
        "invalid YAML",
    );
    assert!(e.message.contains("column"), "{e:?}");
    // A tab where indentation goes: reported at the scalar it interrupts.
    refused(
        "openapi: 3.0.0\ninfo:\n  title: t\n\tversion: 1\n",
        "/info/title",
        Some(3),
        "found a tab (line 3, column 10)",
    );
}

#[test]
fn broken_missing_version() {
    refused(
        "info: {title: t, version: '1'}\npaths: {}\n",
        "",
        Some(1),
        "no version: `openapi` (3.0.x, 3.1.x) or `swagger`",
    );
}

#[test]
fn broken_wrong_versions() {
    refused(
        "info: {title: t, version: '1'}\nopenapi: 4.0.0\npaths: {}\n",
        "/openapi",
        Some(2),
        "unsupported version 4.0.0",
    );
    refused("openapi: 3.2.0\n", "/openapi", Some(1), "unsupported version 3.2.0");
    refused("{\"swagger\": \"1.2\", \"paths\": {}}", "/swagger", Some(1), "unsupported version 1.2");
    refused("openapi: [3]\n", "/openapi", Some(1), "`openapi` must be a version string, found an array");
}

#[test]
fn broken_paths_not_an_object() {
    let text = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  - /pets\n";
    refused(text, "/paths", Some(3), "`paths` must be an object, found an array");
}

#[test]
fn broken_paths_missing() {
    refused("openapi: 3.0.0\ninfo: {title: t, version: '1'}\n", "", Some(1), "`paths` is required");
}

#[test]
fn broken_operation_not_an_object() {
    refused(
        &with_paths("  /pets:\n    get: list them\n"),
        "/paths/~1pets/get",
        Some(6),
        "an operation must be an object, found a string",
    );
}

#[test]
fn broken_missing_responses() {
    refused(
        &with_paths("  /pets:\n    get:\n      operationId: listPets\n"),
        "/paths/~1pets/get",
        Some(6),
        "`responses` is required",
    );
    let swagger = "{\n\"swagger\": \"2.0\",\n\"info\": {\"title\": \"t\", \"version\": \"1\"},\n\"paths\": {\"/pets\": {\n  \"get\": {}}}}";
    refused(swagger, "/paths/~1pets/get", Some(5), "`responses` is required");
}

#[test]
fn broken_external_ref() {
    let text = with_paths(
        "  /pets:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema:\n              $ref: 'other.yaml#/Pet'\n      responses: {}\n",
    );
    refused(
        &text,
        "/paths/~1pets/post/requestBody/content/application~1json/schema/$ref",
        Some(11),
        "external $ref `other.yaml#/Pet` is not supported: bundle the document first",
    );
}

#[test]
fn broken_dangling_ref() {
    let text = with_paths(
        "  /pets:\n    get:\n      parameters:\n        - $ref: '#/components/schemas/Nope'\n      responses: {}\n",
    );
    refused(
        &text,
        "/paths/~1pets/get/parameters/0/$ref",
        Some(8),
        "$ref `#/components/schemas/Nope` points at nothing",
    );
    // Even where Studio never looks (a response), a dangling ref is refused.
    let text = with_paths(
        "  /pets:\n    get:\n      responses:\n        default:\n          $ref: '#/components/responses/Gone'\n",
    );
    refused(&text, "/paths/~1pets/get/responses/default/$ref", Some(9), "points at nothing");
}

#[test]
fn broken_malformed_ref() {
    let text = with_paths(
        "  /pets:\n    get:\n      parameters:\n        - $ref: '#/components/parameters/a~2b'\n      responses: {}\n",
    );
    refused(&text, "/paths/~1pets/get/parameters/0/$ref", Some(8), "is not a JSON pointer");
}

#[test]
fn broken_ref_cycle_where_it_must_resolve() {
    let text = with_paths(
        "  /pets:\n    get:\n      parameters:\n        - $ref: '#/components/parameters/Loop'\n      responses: {}\n\
         components:\n  parameters:\n    Loop:\n      $ref: '#/components/parameters/Loop'\n",
    );
    refused(
        &text,
        "/paths/~1pets/get/parameters/0/$ref",
        Some(8),
        "$ref cycle: /paths/~1pets/get/parameters/0 → /components/parameters/Loop → /components/parameters/Loop",
    );
}

#[test]
fn broken_duplicate_operation_id() {
    let text = with_paths(
        "  /pets:\n    get:\n      operationId: listPets\n      responses: {}\n  /cats:\n    get:\n      operationId: listPets\n      responses: {}\n",
    );
    refused(
        &text,
        "/paths/~1cats/get/operationId",
        Some(11),
        "duplicate operationId `listPets` (also at /paths/~1pets/get, line 7)",
    );
}

#[test]
fn broken_undeclared_path_parameter() {
    let text = with_paths("  /pets/{petId}:\n    get:\n      responses: {}\n");
    refused(&text, "/paths/~1pets~1{petId}/get", Some(6), "parameter `petId` is in the path template but not declared");
}

#[test]
fn broken_path_parameter_not_in_template() {
    let text = with_paths(
        "  /pets:\n    get:\n      parameters:\n        - {name: petId, in: path, required: true, schema: {type: string}}\n      responses: {}\n",
    );
    refused(
        &text,
        "/paths/~1pets/get/parameters/0",
        Some(8),
        "path parameter `petId` is not in the path template `/pets`",
    );
}

#[test]
fn broken_path_parameter_not_required() {
    let text = with_paths(
        "  /pets/{petId}:\n    get:\n      parameters:\n        - name: petId\n          in: path\n          schema: {type: string}\n      responses: {}\n",
    );
    refused(&text, "/paths/~1pets~1{petId}/get/parameters/0", Some(8), "path parameter `petId` must be required");
}

#[test]
fn broken_parameter_without_name() {
    let text = with_paths("  /pets:\n    get:\n      parameters:\n        - in: query\n          schema: {type: string}\n      responses: {}\n");
    refused(&text, "/paths/~1pets/get/parameters/0", Some(8), "parameter has no `name`");
}

#[test]
fn broken_parameter_with_bad_in() {
    let text = with_paths(
        "  /pets:\n    get:\n      parameters:\n        - name: q\n          in: body\n          schema: {type: string}\n      responses: {}\n",
    );
    refused(
        &text,
        "/paths/~1pets/get/parameters/0/in",
        Some(9),
        "unsupported parameter location `body` (expected path, query, header, cookie)",
    );
}

#[test]
fn broken_parameter_without_schema() {
    let text =
        with_paths("  /pets:\n    get:\n      parameters:\n        - {name: q, in: query}\n      responses: {}\n");
    refused(&text, "/paths/~1pets/get/parameters/0", Some(8), "parameter `q` needs a `schema` or a `content`");
}

#[test]
fn broken_duplicate_parameter() {
    let text = with_paths(
        "  /pets:\n    get:\n      parameters:\n        - {name: q, in: query, schema: {}}\n        - {name: q, in: query, schema: {}}\n      responses: {}\n",
    );
    refused(&text, "/paths/~1pets/get/parameters/1", Some(9), "duplicate parameter `q` in query");
}

#[test]
fn broken_security_scheme_unknown_type() {
    let text = with_paths("  {}\ncomponents:\n  securitySchemes:\n    magic:\n      type: telepathy\n");
    refused(&text, "/components/securitySchemes/magic/type", Some(9), "unknown security scheme type `telepathy`");
}

#[test]
fn broken_api_key_without_in() {
    let text = with_paths("  {}\ncomponents:\n  securitySchemes:\n    key:\n      type: apiKey\n      name: X-Key\n");
    refused(&text, "/components/securitySchemes/key", Some(8), "apiKey scheme `key` has no `in`");
}

#[test]
fn broken_oauth2_client_credentials_without_token_url() {
    let text = with_paths(
        "  {}\ncomponents:\n  securitySchemes:\n    oauth:\n      type: oauth2\n      flows:\n        clientCredentials:\n          scopes: {}\n",
    );
    refused(
        &text,
        "/components/securitySchemes/oauth/flows/clientCredentials",
        Some(11),
        "oauth2 clientCredentials flow of `oauth` has no `tokenUrl`",
    );
    let swagger = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\nsecurityDefinitions:\n  oauth:\n    type: oauth2\n    flow: application\n";
    refused(swagger, "/securityDefinitions/oauth", Some(5), "oauth2 application flow of `oauth` has no `tokenUrl`");
}

#[test]
fn broken_undeclared_security_scheme() {
    let text = with_paths("  {}\nsecurity:\n  - nobody: []\n");
    refused(&text, "/security/0/nobody", Some(7), "security scheme `nobody` is not declared");
}

#[test]
fn broken_server_url_not_a_string() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers:\n  - url: 8080\npaths: {}\n";
    refused(text, "/servers/0/url", Some(4), "server url must be a string, found a number");
    let text =
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers:\n  - url: 'https://{tenant}.example'\npaths: {}\n";
    refused(text, "/servers/0/url", Some(4), "server variable `tenant` is not defined in `variables`");
}

#[test]
fn broken_empty_and_non_object_documents() {
    refused("", "", None, "the document is empty");
    refused(" \n\t\n", "", None, "the document is empty");
    refused("# only a comment\n", "", None, "the document is empty");
    refused("- openapi: 3.0.0\n", "", Some(1), "the document must be an object, found an array");
    refused("just words", "", Some(1), "the document must be an object, found a string");
}

#[test]
fn broken_too_deep() {
    let depth = limits::MAX_DEPTH + 1;
    let json_text = format!("{{\"openapi\": \"3.0.0\", \"x\": {}1{}}}", "[".repeat(depth), "]".repeat(depth));
    let pointer = format!("/x{}", "/0".repeat(limits::MAX_DEPTH - 1));
    let e = refused(&json_text, &pointer, Some(1), "the document nests deeper than 100 levels");
    assert!(e.to_string().starts_with(&format!("at {pointer} (line 1): ")));

    let yaml_text = format!(
        "openapi: 3.0.0\nx:\n{}\n",
        (0..depth).map(|i| format!("{}k:", " ".repeat(i + 1))).collect::<Vec<_>>().join("\n")
    );
    let pointer = format!("/x{}", "/k".repeat(limits::MAX_DEPTH - 1));
    // The 101st mapping opens on line 102 (the root on line 1, `x`'s value on line 3).
    refused(&yaml_text, &pointer, Some(u32::try_from(depth + 1).unwrap()), "nests deeper");
    // A million levels: refused, no stack overflow. (Not starting with `{`, this is YAML, whose
    // scanner stops flow collections at 255 levels before any reach the tree.)
    refused(&"[".repeat(1_000_000), "", Some(1), "recursion limit exceeded (line 1, column 256)");
    refused(&"{\"a\":".repeat(1_000_000), &"/a".repeat(limits::MAX_DEPTH), Some(1), "nests deeper");
    refused(&"- ".repeat(1_000_000), &"/0".repeat(limits::MAX_DEPTH), Some(1), "nests deeper");
}

#[test]
fn broken_too_many_operations() {
    let mut paths = String::new();
    for i in 0..=limits::MAX_TOOLS {
        paths.push_str(&format!("  /p{i}:\n    get: {{responses: {{}}}}\n"));
    }
    refused(&with_paths(&paths), "/paths", Some(4), "more than 2000 operations");
    // Exactly at the limit: fine.
    let at_limit: String = paths.lines().take(2 * limits::MAX_TOOLS).map(|l| format!("{l}\n")).collect();
    assert_eq!(import(&with_paths(&at_limit)).unwrap().tools.len(), limits::MAX_TOOLS);
}

#[test]
fn broken_too_large() {
    let text = format!("openapi: 3.0.0\n#{}\n", "x".repeat(limits::MAX_DOCUMENT_BYTES));
    refused(&text, "", None, "more than the limit of 10485760 bytes");
}

#[test]
fn broken_yaml_duplicate_keys() {
    let text = with_paths("  /pets:\n    get:\n      responses: {}\n  /pets:\n    post:\n      responses: {}\n");
    refused(&text, "/paths/~1pets", Some(8), "duplicate key `/pets` (first at line 5)");
    refused(
        "{\"openapi\": \"3.0.0\",\n \"openapi\": \"3.1.0\"}",
        "/openapi",
        Some(2),
        "duplicate key `openapi` (first at line 1)",
    );
}

#[test]
fn broken_yaml_more_than_one_document() {
    refused("openapi: 3.0.0\n---\nopenapi: 3.1.0\n", "", Some(2), "only one YAML document is allowed");
}

#[test]
fn broken_yaml_alias_bomb() {
    let mut text = String::from("openapi: 3.0.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    // a5 holds 10 copies of a4 (111,111 values each): the eighth passes the bound.
    refused(&text, "/a5/7", Some(7), "aliases expand to more than 1000000 values");
}

#[test]
fn broken_swagger_body_parameter_without_schema() {
    let text = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    post:\n      parameters:\n        - name: pet\n          in: body\n      responses: {}\n";
    refused(text, "/paths/~1pets/post/parameters/0", Some(7), "body parameter `pet` has no `schema`");
}

#[test]
fn broken_swagger_body_and_form_data() {
    let text = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    post:\n      parameters:\n        - {name: pet, in: body, schema: {}}\n        - {name: photo, in: formData, type: file}\n      responses: {}\n";
    refused(
        text,
        "/paths/~1pets/post/parameters/0",
        Some(7),
        "cannot have both a body parameter and formData parameters",
    );
}

#[test]
fn broken_swagger_parameter_without_type() {
    let text = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    get:\n      parameters:\n        - {name: q, in: query}\n      responses: {}\n";
    refused(text, "/paths/~1pets/get/parameters/0", Some(7), "parameter `q` has no `type`");
}

#[test]
fn broken_request_body_without_content() {
    let text = with_paths("  /pets:\n    post:\n      requestBody:\n        required: true\n      responses: {}\n");
    refused(&text, "/paths/~1pets/post/requestBody", Some(7), "`requestBody` needs a non-empty `content`");
}

#[test]
fn broken_info() {
    refused("openapi: 3.0.0\npaths: {}\n", "", Some(1), "`info` is required");
    refused("openapi: 3.0.0\ninfo:\n  version: '1'\npaths: {}\n", "/info", Some(2), "`info.title` is required");
}

#[test]
fn broken_path_without_slash() {
    refused(
        &with_paths("  pets:\n    get: {responses: {}}\n"),
        "/paths/pets",
        Some(5),
        "path `pets` must start with `/`",
    );
}

// ---------------------------------------------------------------------------------------------
// Limits that degrade instead of refusing

#[test]
fn exponential_refs_stay_bounded() {
    // S0 → 2×S1 → 4×S2 … 2^40 nodes if fully inlined: the size budget keeps `$ref`s instead.
    let mut schemas = String::new();
    for i in 0..40 {
        let n = i + 1;
        schemas.push_str(&format!(
            "    S{i}:\n      type: object\n      properties:\n        a: {{$ref: '#/components/schemas/S{n}'}}\n        b: {{$ref: '#/components/schemas/S{n}'}}\n"
        ));
    }
    schemas.push_str("    S40: {type: string}\n");
    let text = with_paths(&format!(
        "  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {{$ref: '#/components/schemas/S0'}}\n      responses: {{}}\ncomponents:\n  schemas:\n{schemas}"
    ));
    let started = std::time::Instant::now();
    let api = import(&text).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(api.warnings.len(), 1, "{:?}", api.warnings);
    assert!(api.warnings[0].starts_with("tool `post_x`: "), "{:?}", api.warnings);
    assert!(api.warnings[0].contains("`$ref`s left as references (`#/components/schemas/S39`, "), "{:?}", api.warnings);
    assert!(
        api.warnings[0].ends_with(", …): the inlined schema reached its limit of 10000 values"),
        "{:?}",
        api.warnings
    );
    let schema = &api.tools[0].request_body.as_ref().unwrap().schema;
    assert_eq!(schema["properties"]["a"]["type"], "object");
}

#[test]
fn deep_ref_chains_stop_at_the_schema_depth() {
    // D(k) sits 2k levels deep and is 3 levels high: D49 would reach level 101.
    let mut schemas = String::new();
    for i in 0..150 {
        schemas.push_str(&format!(
            "    D{i}:\n      type: object\n      properties:\n        next: {{$ref: '#/components/schemas/D{}'}}\n",
            i + 1
        ));
    }
    schemas.push_str("    D150: {type: string}\n");
    let text = with_paths(&format!(
        "  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {{$ref: '#/components/schemas/D0'}}\n      responses: {{}}\ncomponents:\n  schemas:\n{schemas}"
    ));
    let api = import(&text).unwrap();
    assert_eq!(
        api.warnings,
        ["tool `post_x`: `$ref` `#/components/schemas/D49` left as a reference: the inlined schema would nest deeper than 100 levels"]
    );
    // Still serialisable and readable back within serde_json's recursion limit.
    let back: ImportedApi = serde_json::from_str(&serde_json::to_string(&api).unwrap()).unwrap();
    assert_eq!(back, api);
}

#[test]
fn long_ref_chains_are_followed_without_recursing() {
    // 5,000 schemas and parameters that only point at the next one: parameters are followed to
    // the end; schemas expand 64 deep, then stay references.
    let n = 5_000;
    let mut components = String::from("components:\n  schemas:\n");
    for i in 0..n {
        components.push_str(&format!("    C{i}: {{$ref: '#/components/schemas/C{}'}}\n", i + 1));
    }
    components.push_str(&format!("    C{n}: {{type: integer}}\n  parameters:\n"));
    for i in 0..n {
        components.push_str(&format!("    P{i}: {{$ref: '#/components/parameters/P{}'}}\n", i + 1));
    }
    components.push_str(&format!("    P{n}: {{name: q, in: query, schema: {{$ref: '#/components/schemas/C0'}}}}\n"));
    let text = with_paths(&format!("  /x:\n    get:\n      parameters: [{{$ref: '#/components/parameters/P0'}}]\n      responses: {{}}\n{components}"));
    let api = import(&text).unwrap();
    assert_eq!(params(&api.tools[0]), [("q", ParamLocation::Query, false)]);
    assert_eq!(api.tools[0].parameters[0].schema, json!({"$ref": "#/components/schemas/C64"}));
    assert_eq!(
        api.warnings,
        ["tool `get_x`: `$ref` `#/components/schemas/C64` left as a reference: more than 64 `$ref`s expand one inside another"]
    );
}

// ---------------------------------------------------------------------------------------------
// Never panics

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const FIXTURES: [&str; 6] = [
        "petstore-swagger2.json",
        "petstore.yaml",
        "petstore-expanded.yaml",
        "webhook-example.yaml",
        "pets-oneof.yaml",
        "secured-api.json",
    ];

    /// One edit of a document, by character positions (scaled to its length).
    #[derive(Debug, Clone)]
    enum Mutation {
        Delete(f64, usize),
        Insert(f64, String),
        Duplicate(f64, usize),
        Truncate(f64),
        Swap(f64, f64),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        let fragment = prop_oneof![
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("\n".to_string()),
            Just("\"".to_string()),
            Just(": ".to_string()),
            Just("- ".to_string()),
            Just("$ref: '#/components/schemas/Pet'".to_string()),
            Just("\"$ref\": \"#/definitions/Pet\"".to_string()),
            Just("$ref: '#/'".to_string()),
            Just("&a ".to_string()),
            Just("*a".to_string()),
            Just("<<: *a".to_string()),
            Just("{petId}".to_string()),
            Just("\t".to_string()),
            Just("---\n".to_string()),
            "[ -~\n]{0,12}",
            any::<String>(),
        ];
        prop_oneof![
            (0.0..1.0f64, 0usize..40).prop_map(|(at, n)| Mutation::Delete(at, n)),
            (0.0..1.0f64, fragment).prop_map(|(at, s)| Mutation::Insert(at, s)),
            (0.0..1.0f64, 0usize..200).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
            (0.0..1.0f64).prop_map(Mutation::Truncate),
            (0.0..1.0f64, 0.0..1.0f64).prop_map(|(a, b)| Mutation::Swap(a, b)),
        ]
    }

    fn apply(text: &str, mutations: &[Mutation]) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for m in mutations {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let at = |f: f64, len: usize| ((f * len as f64) as usize).min(len);
            let len = chars.len();
            match m {
                Mutation::Delete(f, n) => {
                    let start = at(*f, len);
                    chars.drain(start..(start + n).min(len));
                }
                Mutation::Insert(f, s) => {
                    let start = at(*f, len);
                    chars.splice(start..start, s.chars());
                }
                Mutation::Duplicate(f, n) => {
                    let start = at(*f, len);
                    let piece: Vec<char> = chars[start..(start + n).min(len)].to_vec();
                    chars.splice(start..start, piece);
                }
                Mutation::Truncate(f) => chars.truncate(at(*f, len)),
                Mutation::Swap(a, b) => {
                    if len > 0 {
                        let (a, b) = (at(*a, len - 1), at(*b, len - 1));
                        chars.swap(a, b);
                    }
                }
            }
        }
        chars.into_iter().collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_strings(text in any::<String>()) {
            let _ = import(&text);
        }

        #[test]
        fn arbitrary_structural_text(text in "[{}\\[\\]:,\"'\\- \n\t#&*!|>a-z0-9$/~%]{0,300}") {
            let _ = import(&text);
            let _ = import(&format!("{{{text}"));
        }

        #[test]
        fn mutated_fixtures(which in 0..FIXTURES.len(), mutations in proptest::collection::vec(mutation(), 1..6)) {
            let text = apply(&fixture(FIXTURES[which]), &mutations);
            if let Err(e) = import(&text) {
                // Whatever went wrong is said, and its line (when given) is in the text.
                prop_assert!(!e.message.is_empty());
                if let Some(line) = e.line {
                    prop_assert!(line >= 1);
                    prop_assert!(usize::try_from(line).unwrap() <= text.lines().count().max(1) + 1, "{:?}", e);
                }
            }
        }
    }
}
