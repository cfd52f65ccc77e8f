//! `/api/openapi.json`: the OpenAPI 3.1 description of the API.

use axum::Json;
use axum::extract::State;
use lyceum_course::{Audience, Description, Outline, UnitsPerWeek, Weeks};
use serde_json::{Value, json};

use crate::Web;

/// `GET /api/openapi.json`.
pub async fn get(State(web): State<Web>) -> Json<Value> {
    Json(openapi_document(&web.public_url))
}

/// The OpenAPI 3.1 description of the API.
pub fn openapi_document(public_url: &str) -> Value {
    let slug =
        json!({"name": "slug", "in": "path", "required": true, "schema": {"type": "string"}});
    let week = json!({"name": "week", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1, "maximum": Weeks::MAX}});
    let unit = json!({"name": "unit", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1, "maximum": UnitsPerWeek::MAX}});
    let ok = |schema: &str| json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}, "404": {"$ref": "#/components/responses/NotFound"}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}});
    let draft_ok = |status: &str, description: &str| json!({status: {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Draft"}}}}, "404": {"$ref": "#/components/responses/NotFound"}});
    let text = json!({"type": "string"});
    let title = json!({"type": "string", "minLength": 1, "maxLength": Outline::MAX_TITLE_CHARS});
    let items = |max: usize| json!({"type": "array", "minItems": 1, "maxItems": max, "items": {"type": "string", "minLength": 1, "maxLength": Outline::MAX_ITEM_CHARS}});
    // Server-Sent Events: each event, as `event:` and its `data:` lines joined.
    let events = |names: &[&str]| {
        json!({"200": {"description": "An event stream", "content": {"text/event-stream": {"schema": {
        "type": "object", "required": ["event", "data"],
        "properties": {"event": {"enum": names}, "data": {"type": "string"}}
    }}}}, "404": {"$ref": "#/components/responses/NotFound"}, "429": {"$ref": "#/components/responses/TooManyStreams"}})
    };
    let page_events = |names: &[&str]| {
        let mut responses = events(names);
        responses["404"] = json!({"description": "No such course or unit: the site's page for it", "content": {"text/html": {"schema": {"type": "string"}}}});
        responses
    };
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let category = json!({"enum": lyceum_course::CATEGORIES.iter().map(|category| category.slug).collect::<Vec<_>>()});
    // Added after: one `json!` this deep reaches the macro recursion limit.
    let unauthorized = json!({"description": "No token, or one that is unknown, revoked or of a disabled account", "headers": {"WWW-Authenticate": {"schema": text}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let answer = |schema: serde_json::Value| json!({"description": "OK", "content": {"application/json": {"schema": schema}}});
    let list_of = |schema: &str| {
        answer(
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{schema}")}}),
        )
    };
    let mine = |summary: &str, mut responses: serde_json::Value| {
        responses["401"] = unauthorized.clone();
        json!({"summary": summary, "security": [{"bearer": []}], "responses": responses})
    };
    let by_id = |what: &str| {
        let mut operation = mine(
            &format!("Deletes one of the account's {what}"),
            json!({
                "204": {"description": "Deleted"},
                "404": {"$ref": "#/components/responses/NotFound"}
            }),
        );
        operation["parameters"] =
            json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
        json!({"delete": operation})
    };
    let mut me_get = mine(
        "The account an API token stands for",
        json!({"200": answer(json!({"$ref": "#/components/schemas/Me"}))}),
    );
    me_get["description"] = json!(
        "Make a token on the account page (`/account`); it is shown once. Send it as `Authorization: Bearer <token>`. A token reaches only its own account; passwords, passkeys, new tokens and deleting the account are on the account page."
    );
    let mut me_patch = mine(
        "Renames the account (the name shown on its courses)",
        json!({
            "200": answer(json!({"$ref": "#/components/schemas/Me"})),
            "400": {"$ref": "#/components/responses/BadRequest"},
            "413": {"$ref": "#/components/responses/TooLarge"},
            "415": {"description": "The body is not sent as `application/json`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "422": {"$ref": "#/components/responses/Invalid"}
        }),
    );
    me_patch["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "required": ["display_name"], "additionalProperties": false,
        "properties": {"display_name": {"type": "string", "minLength": 1, "maxLength": 80}}
    }}}});
    let me = json!({"get": me_get, "patch": me_patch});
    let when = json!({"type": "string", "format": "date-time"});
    let session_schema = json!({"type": "object", "required": ["id", "browser", "started_at", "last_seen_at", "expires_at"], "properties": {
        "id": {"type": "integer"}, "browser": text, "started_at": when, "last_seen_at": when, "expires_at": when
    }});
    let token_schema = json!({"type": "object", "required": ["id", "name", "created_at", "last_used_at"], "properties": {
        "id": {"type": "integer"}, "name": text, "created_at": when, "last_used_at": {"type": ["string", "null"], "format": "date-time"}
    }});
    let me_schema = json!({"type": "object", "required": ["id", "email", "display_name", "is_admin"], "properties": {
        "id": {"type": "integer"}, "email": text, "display_name": text, "is_admin": {"type": "boolean"}
    }});
    let mut spec = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Lyceum",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Courses written by a language model: make one (draft its outline, follow it, edit and confirm it), read the catalog and each course with its weeks, units and quizzes, and follow the live text of a unit being written. Requests that change something and come from a browser must come from this site's own pages."
        },
        "servers": [{"url": public_url}],
        "paths": {
            "/api/courses": {"get": {
                "summary": "The catalog: featured courses first, then the newest, 20 courses a page",
                "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": i64::MAX, "default": 1}},
                    {"name": "category", "in": "query", "description": "Only the courses of this subject (a CIP 2020 family; `/categories` lists them)", "schema": category}
                ],
                "responses": {
                    "200": {"description": "OK; a page past the end has no courses", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CatalogPage"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"}
                }
            }},
            "/api/search": {"get": {
                "summary": "Courses and units that hold every word of `q` (the last word also as the start of a word), best first, 10 of each at most",
                "description": "Private and unlisted courses are found by their maker only. Each result has the passage where the words stand: `snippet` as text, `snippet_html` as escaped HTML with each match in `<mark>`.",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "kind", "in": "query", "schema": {"enum": ["course", "unit"]}},
                    {"name": "category", "in": "query", "description": "Only courses of this subject, and their units", "schema": category}
                ],
                "responses": {
                    "200": {"description": "OK; a query without words finds nothing", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResults"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"}
                }
            }},
            "/api/courses/{slug}": {"get": {
                "summary": "A whole course with every week, unit and quiz",
                "parameters": [slug],
                "responses": ok("Course")
            }},
            "/api/courses/{slug}/weeks/{week}": {"get": {
                "summary": "One week: its overview and units",
                "parameters": [slug, week],
                "responses": ok("Week")
            }},
            "/api/courses/{slug}/weeks/{week}/units/{unit}": {"get": {
                "summary": "One unit: its article and quiz when written",
                "parameters": [slug, week, unit],
                "responses": ok("Unit")
            }},
            "/api/drafts": {"post": {
                "summary": "Start drafting a course's outline",
                "description": "Counts against the hourly limit of drafts per client address. The outline is written in the background: follow it at `live`, or read the draft again.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DraftRequest"}}}},
                "responses": {
                    "202": {"description": "Drafting started", "headers": {"Location": {"schema": text}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Draft"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "413": {"$ref": "#/components/responses/TooLarge"},
                    "415": {"description": "The body is not sent as `application/json`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    "422": {"$ref": "#/components/responses/Invalid"},
                    "429": {"description": "Too many drafts from this address", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                }
            }},
            "/api/drafts/{id}": {"get": {
                "summary": "A draft: what is written so far, and the whole outline once drafted",
                "parameters": [id],
                "responses": draft_ok("200", "OK")
            }},
            "/api/drafts/{id}/live": {"get": {
                "summary": "The draft as it is written (Server-Sent Events)",
                "description": "Events: `draft` (data: the Draft as JSON) at once and on every change, then `done` or `failed` (data: the reason).",
                "parameters": [id],
                "responses": events(&["draft", "done", "failed"])
            }},
            "/api/drafts/{id}/confirm": {"post": {
                "summary": "Create the course from the outline, as drafted or as edited, and start writing it",
                "description": "Send `{\"outline\": …}` (the draft's `outline`, edited: renamed, reordered, weeks and units added or removed) or no body to take it as drafted. The edited outline is checked with the same rules as a drafted one.",
                "parameters": [id],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"outline": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Outline"}]}}}}}},
                "responses": {
                    "201": {"description": "The course was created", "headers": {"Location": {"schema": text}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CourseLink"}}}},
                    "200": {"description": "It was confirmed before: the same course", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CourseLink"}}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"description": "Still drafting, or drafting failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    "413": {"$ref": "#/components/responses/TooLarge"},
                    "422": {"$ref": "#/components/responses/Invalid"}
                }
            }},
            "/courses/{slug}/live": {"get": {
                "summary": "How much of the course is written, as it changes (Server-Sent Events)",
                "description": "Events: `html` (the progress and the syllabus with each unit's status, as HTML) at once and whenever a unit starts, is written or fails, then `done` once no unit is waiting or being written.",
                "parameters": [slug],
                "responses": page_events(&["html", "done"])
            }},
            "/courses/{slug}/weeks/{week}/units/{unit}/live": {"get": {
                "summary": "The unit's text as it is written (Server-Sent Events); opening it moves the unit to the front of the queue",
                "description": "Events: `html` (sanitised HTML of the text so far), then `done` once it is stored, `failed` (data: the reason) or `reload` (the stream fell behind; read the unit again).",
                "parameters": [slug, week, unit],
                "responses": page_events(&["html", "done", "failed", "reload"])
            }}
        },
        "components": {
            "responses": {
                "NotFound": {"description": "No such course, week, unit or draft (or none the caller may see)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "Forbidden": {"description": "Only the course's maker or an admin may do this", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "BadRequest": {"description": "The body or the query is not what is described", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "TooLarge": {"description": "The body is larger than the server takes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "TooManyStreams": {"description": "This address holds as many live streams open as it may", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}, "text/html": {"schema": {"type": "string"}}}},
                "Invalid": {"description": "What to change, field by field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": text, "problems": {"type": "array", "items": {"type": "object", "properties": {
                    "field": {"type": "string", "description": "The request field, for a draft request"},
                    "path": {"type": "string", "description": "Where in the outline, such as modules[0].units[1].title"},
                    "message": text
                }, "required": ["message"]}}}, "required": ["error"]},
                "DraftRequest": {"type": "object", "required": ["description"], "additionalProperties": false, "properties": {
                    "description": {"type": "string", "minLength": Description::MIN_CHARS, "maxLength": Description::MAX_CHARS},
                    "weeks": {"type": ["integer", "null"], "minimum": 1, "maximum": Weeks::MAX, "default": 12},
                    "units_per_week": {"type": ["integer", "null"], "minimum": 1, "maximum": UnitsPerWeek::MAX, "default": 3},
                    "language": {"type": ["string", "null"], "description": "A BCP-47 tag or a language's name (`lyceum languages` lists them)", "default": "English"},
                    "level": {"enum": ["beginner", "intermediate", "advanced", null], "default": "beginner"},
                    "audience": {"type": ["string", "null"], "maxLength": Audience::MAX_CHARS}
                }},
                "Draft": {"type": "object", "required": ["id", "status", "weeks", "live", "confirm"], "properties": {
                    "id": text,
                    "status": {"enum": ["drafting", "ready", "failed", "confirmed"]},
                    "error": {"type": ["string", "null"]},
                    "caution": {"type": ["string", "null"], "description": "Why a course in the asked-for language may come out poorly on the configured model, and what to do about it."},
                    "title": {"type": ["string", "null"]},
                    "summary": {"type": ["string", "null"]},
                    "weeks": {"type": "array", "items": {"type": "object", "properties": {
                        "number": {"type": "integer"}, "title": text,
                        "units": {"type": "array", "items": {"type": "object", "properties": {"number": {"type": "integer"}, "title": text}}}
                    }}},
                    "outline": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Outline"}]},
                    "course": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/CourseLink"}]},
                    "live": text, "confirm": text
                }},
                "Outline": {"type": "object", "required": ["title", "summary", "outcomes", "modules"], "description": "Titles are distinct and on one line; the rules are checked on confirming, with what to change.", "properties": {
                    "title": title, "summary": {"type": "string", "minLength": 1, "maxLength": Outline::MAX_SUMMARY_CHARS}, "outcomes": items(Outline::MAX_OUTCOMES),
                    "modules": {"type": "array", "minItems": 1, "maxItems": Outline::MAX_MODULES, "items": {"type": "object", "required": ["title", "units"], "properties": {
                        "title": title,
                        "units": {"type": "array", "minItems": 1, "maxItems": Outline::MAX_UNITS, "items": {"type": "object", "required": ["title", "objectives"], "properties": {"title": title, "objectives": items(Outline::MAX_OBJECTIVES)}}}
                    }}}
                }},
                "CourseLink": {"type": "object", "properties": {"slug": text, "url": text, "api": text}},
                "CatalogPage": {"type": "object", "required": ["courses", "page"], "properties": {
                    "courses": {"type": "array", "items": {"$ref": "#/components/schemas/CourseItem"}},
                    "page": {"type": "integer"},
                    "next_page": {"type": ["integer", "null"]}
                }},
                "SearchResults": {"type": "object", "required": ["courses", "units"], "properties": {
                    "courses": {"type": "array", "items": {"type": "object", "required": ["slug", "title", "url", "snippet", "snippet_html"], "properties": {
                        "slug": text, "title": text, "url": text, "snippet": text, "snippet_html": text
                    }}},
                    "units": {"type": "array", "items": {"type": "object", "required": ["course_slug", "course_title", "week", "unit", "title", "url", "snippet", "snippet_html"], "properties": {
                        "course_slug": text, "course_title": text, "week": {"type": "integer"}, "unit": {"type": "integer"},
                        "title": text, "url": text, "snippet": text, "snippet_html": text
                    }}}
                }},
                "CourseItem": {"type": "object", "properties": {
                    "slug": text, "title": text, "summary": text,
                    "language": {"type": "string", "description": "BCP-47 tag"},
                    "level": {"enum": ["beginner", "intermediate", "advanced"]},
                    "weeks": {"type": "integer"}, "items": {"type": "integer"}, "ready": {"type": "integer"}, "failed": {"type": "integer"},
                    "featured": {"type": "boolean"},
                    "visibility": {"enum": ["public", "unlisted", "private"]},
                    "category": {"oneOf": [category, {"type": "null"}]},
                    "url": text
                }},
                "Course": {"type": "object", "properties": {
                    "slug": text, "title": text, "description": text, "summary": text, "outcomes": strings,
                    "language": text, "level": text, "audience": text,
                    "category": {"oneOf": [category, {"type": "null"}]},
                    "weeks": {"type": "array", "items": {"$ref": "#/components/schemas/Week"}}
                }},
                "Week": {"type": "object", "properties": {
                    "number": {"type": "integer"}, "title": text, "overview": {"type": ["string", "null"]},
                    "units": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}}
                }},
                "Unit": {"type": "object", "properties": {
                    "number": {"type": "integer"}, "title": text, "objectives": strings,
                    "status": {"enum": ["pending", "generating", "ready", "failed"]},
                    "body": {"type": ["string", "null"], "description": "Markdown written by a model: untrusted; sanitise before showing it as HTML"},
                    "quiz": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Quiz"}]}
                }},
                "Quiz": {"type": "object", "properties": {"questions": {"type": "array", "items": {"type": "object", "properties": {
                    "prompt": text, "options": {"type": "array", "items": text, "minItems": 4, "maxItems": 4},
                    "answer": {"type": "integer", "minimum": 0, "maximum": 3}, "explanation": text
                }}}}}
            }
        }
    });
    spec["paths"]["/api/courses/{slug}/weeks/{week}/units/{unit}/quiz"] = json!({"post": {
        "summary": "Check answers to a unit's quiz",
        "description": "As the unit's page does. With an API token the attempt is kept for the token's account, and `best` is its best score at this version of the quiz.",
        "parameters": [slug, week, unit],
        "security": [{}, {"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object", "required": ["answers"], "additionalProperties": false,
            "properties": {"answers": {"type": "array", "maxItems": 5, "description": "The index (0 to 3) of the option chosen for each question, in order", "items": {"type": ["integer", "null"], "minimum": 0}}}
        }}}},
        "responses": {
            "200": answer(json!({"$ref": "#/components/schemas/QuizResult"})),
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": unauthorized.clone(),
            "404": {"$ref": "#/components/responses/NotFound"},
            "413": {"$ref": "#/components/responses/TooLarge"},
            "415": {"description": "The body is not sent as `application/json`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "422": {"$ref": "#/components/responses/Invalid"}
        }
    }});
    spec["components"]["schemas"]["QuizResult"] = json!({"type": "object", "required": ["score", "total", "saved", "best", "questions"], "properties": {
        "score": {"type": "integer"}, "total": {"type": "integer"}, "saved": {"type": "boolean"}, "best": {"type": ["integer", "null"]},
        "questions": {"type": "array", "items": {"type": "object", "required": ["chosen", "right", "answer", "explanation"], "properties": {
            "chosen": {"type": "integer"}, "right": {"type": "boolean"}, "answer": {"type": "integer"}, "explanation": text
        }}}
    }});
    let invalid_body = json!({
        "400": {"$ref": "#/components/responses/BadRequest"},
        "403": {"$ref": "#/components/responses/Forbidden"},
        "404": {"$ref": "#/components/responses/NotFound"},
        "413": {"$ref": "#/components/responses/TooLarge"},
        "415": {"description": "The body is not sent as `application/json`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "422": {"$ref": "#/components/responses/Invalid"}
    });
    let mut course_patch = mine(
        "Sets who may see a course the account made, or its subject",
        {
            let mut responses = invalid_body.clone();
            responses["200"] = answer(
                json!({"type": "object", "required": ["slug", "visibility", "category"], "properties": {
                    "slug": text, "visibility": {"enum": ["public", "unlisted", "private"]},
                    "category": {"oneOf": [category, {"type": "null"}]}
                }}),
            );
            responses
        },
    );
    course_patch["description"] = json!(
        "`public`: in the catalog and the sitemap. `unlisted`: read by its address only, and search engines are asked not to index it. `private`: a 404 to everyone but its maker and admins. `category`: a subject's slug, or `null` for none. Give either or both."
    );
    course_patch["parameters"] = json!([slug]);
    course_patch["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "minProperties": 1, "additionalProperties": false,
        "properties": {
            "visibility": {"enum": ["public", "unlisted", "private"]},
            "category": {"oneOf": [category, {"type": "null"}]}
        }
    }}}});
    let mut course_delete = mine(
        "Deletes a course the account made, with its units, quizzes and every learner's progress in it",
        json!({
            "204": {"description": "Deleted"},
            "403": {"$ref": "#/components/responses/Forbidden"},
            "404": {"$ref": "#/components/responses/NotFound"}
        }),
    );
    course_delete["parameters"] = json!([slug]);
    spec["paths"]["/api/courses/{slug}"]["patch"] = course_patch;
    spec["paths"]["/api/courses/{slug}"]["delete"] = course_delete;
    let unit_answer = answer(json!({"$ref": "#/components/schemas/Unit"}));
    let mut unit_patch = mine("Edits a written unit of a course the account made", {
        let mut responses = invalid_body.clone();
        responses["200"] = unit_answer.clone();
        responses["409"] = json!({"description": "The unit is not written yet", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        responses
    });
    unit_patch["description"] = json!(
        "As the unit's edit page does: the text it replaces is kept as a version, and learners keep their progress and quiz attempts. Omitted fields keep their value."
    );
    unit_patch["parameters"] = json!([slug, week, unit]);
    unit_patch["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": false,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": Outline::MAX_TITLE_CHARS},
            "body": {"type": "string", "minLength": 1, "maxLength": lyceum_app::editing::MAX_BODY_CHARS, "description": "Markdown"}
        }
    }}}});
    spec["paths"]["/api/courses/{slug}/weeks/{week}/units/{unit}"]["patch"] = unit_patch;
    let mut versions = mine(
        "A unit's earlier texts, the most recently replaced first",
        json!({
            "200": answer(json!({"type": "array", "items": {"type": "object", "required": ["id", "title", "body", "author", "written_at", "replaced_at"], "properties": {
                "id": {"type": "integer"}, "title": text, "body": text,
                "author": {"type": ["string", "null"], "description": "`model`, or the display name of the person who wrote it (`null` for an account since deleted)"},
                "written_at": {"type": ["string", "null"], "format": "date-time"}, "replaced_at": {"type": "string", "format": "date-time"}
            }}})),
            "403": {"$ref": "#/components/responses/Forbidden"},
            "404": {"$ref": "#/components/responses/NotFound"}
        }),
    );
    versions["parameters"] = json!([slug, week, unit]);
    spec["paths"]["/api/courses/{slug}/weeks/{week}/units/{unit}/versions"] =
        json!({"get": versions});
    let mut restore = mine(
        "Makes an earlier text of a unit its text again, keeping the current one",
        json!({
            "200": unit_answer,
            "403": {"$ref": "#/components/responses/Forbidden"},
            "404": {"$ref": "#/components/responses/NotFound"}
        }),
    );
    restore["parameters"] = json!([slug, week, unit, {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    spec["paths"]["/api/courses/{slug}/weeks/{week}/units/{unit}/versions/{id}/restore"] =
        json!({"post": restore});
    let mut rewrite = mine(
        "Has the model write a unit of a course the account made again",
        {
            let mut responses = invalid_body.clone();
            responses["202"] = answer(
                json!({"type": "object", "required": ["status", "url"], "properties": {
                    "status": {"enum": ["pending"]}, "url": text
                }}),
            );
            responses["409"] = json!({"description": "The unit is not written yet, or is being written again already", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
            responses
        },
    );
    rewrite["description"] = json!(
        "Queued ahead of background work. The unit keeps its current text (and learners their progress and quiz attempts) until the new one is stored; the current text is then kept as a version, and the quiz is written again."
    );
    rewrite["parameters"] = json!([slug, week, unit]);
    rewrite["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": false,
        "properties": {"instruction": {"type": "string", "maxLength": lyceum_app::editing::MAX_WISH_CHARS, "description": "What should be different, e.g. \"simpler\"; empty for none"}}
    }}}});
    spec["paths"]["/api/courses/{slug}/weeks/{week}/units/{unit}/rewrite"] =
        json!({"post": rewrite});
    let error_content =
        json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
    let mut chat_list = mine(
        "The account's conversation with the tutor of a unit",
        json!({
            "200": answer(json!({"$ref": "#/components/schemas/Chat"})),
            "404": {"$ref": "#/components/responses/NotFound"}
        }),
    );
    chat_list["parameters"] = json!([slug, week, unit]);
    let mut chat_send = mine(
        "Sends the tutor a message, or presses one of its buttons",
        {
            let mut responses = invalid_body.clone();
            responses["200"] = json!({"description": "The reply as Server-Sent Events: `message` (a stored message, the learner's first: a ChatMessage), `partial` (the reply so far: `html` and `text`), `failed` (`error`: why the reply failed; the learner's message is kept, and `retry` writes it again), and last `end` (where the conversation stands: ChatState)", "content": {"text/event-stream": {"schema": {"type": "string"}}}});
            responses["409"] = json!({"description": "The unit is not written yet, there is no test to stop, or nothing to retry", "content": error_content.clone()});
            responses["429"] = json!({"description": "The account asked the tutor as often as it may in an hour", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": error_content.clone()});
            responses
        },
    );
    chat_send["description"] = json!(format!(
        "`send` (the default) sends `text` (at most {} characters): a question, or the answer to the test question waiting for one. `test` starts a test (questions one at a time, each answer graded), `stop` ends it with a summary, `exercise` asks for a practical exercise with its worked solution, `reading` for further reading (with search links Lyceum builds), `retry` writes the reply to the last message again after it failed.",
        lyceum_app::tutor::MAX_MESSAGE_CHARS
    ));
    chat_send["parameters"] = json!([slug, week, unit]);
    chat_send["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": false,
        "properties": {
            "action": {"enum": ["send", "test", "stop", "exercise", "reading", "retry"]},
            "text": {"type": "string", "maxLength": lyceum_app::tutor::MAX_MESSAGE_CHARS}
        }
    }}}});
    let mut chat_clear = mine(
        "Forgets the account's conversation with the tutor of a unit",
        json!({
            "204": {"description": "Cleared"},
            "404": {"$ref": "#/components/responses/NotFound"}
        }),
    );
    chat_clear["parameters"] = json!([slug, week, unit]);
    spec["paths"]["/api/courses/{slug}/weeks/{week}/units/{unit}/chat"] =
        json!({"get": chat_list, "post": chat_send, "delete": chat_clear});
    spec["components"]["schemas"]["ChatState"] = json!({"type": "object", "required": ["test_open", "awaiting_answer", "unanswered"], "properties": {
        "test_open": {"type": "boolean"}, "awaiting_answer": {"type": "boolean", "description": "A test question waits for the learner's answer"},
        "unanswered": {"type": "boolean", "description": "The last message is the learner's and has no reply"}
    }});
    spec["components"]["schemas"]["ChatMessage"] = json!({"type": "object", "required": ["id", "role", "kind", "text", "html", "created_at"], "properties": {
        "id": {"type": "integer"}, "role": {"enum": ["learner", "tutor"]},
        "kind": {"enum": ["ask", "reply", "test", "question", "answer", "grade", "stop", "summary", "exercise", "reading", "withheld"]},
        "text": {"type": "string", "description": "Markdown; the learner's words as typed"},
        "html": {"type": "string", "description": "Sanitised HTML, as the page shows it"},
        "verdict": {"enum": ["right", "partly_right", "wrong"]},
        "solution": {"type": "string", "description": "An exercise's worked solution, Markdown"},
        "reading": {"type": "array", "items": {"type": "object", "required": ["title", "author", "why", "links"], "properties": {
            "title": {"type": "string"}, "author": {"type": "string"}, "why": {"type": "string"},
            "links": {"type": "array", "items": {"type": "object", "required": ["label", "href"], "properties": {"label": {"type": "string"}, "href": {"type": "string", "format": "uri"}}}}
        }}},
        "created_at": {"type": "string", "format": "date-time"}
    }});
    spec["components"]["schemas"]["Chat"] = json!({"allOf": [
        {"$ref": "#/components/schemas/ChatState"},
        {"type": "object", "required": ["messages"], "properties": {"messages": {"type": "array", "items": {"$ref": "#/components/schemas/ChatMessage"}}}}
    ]});
    spec["paths"]["/api/me"] = me;
    spec["paths"]["/api/me/courses"] = json!({"get": mine("The courses the account made, newest first", json!({"200": list_of("CourseItem")}))});
    spec["paths"]["/api/me/data"] = json!({"get": mine("Everything stored about the account's person, as the account page's download", json!({"200": answer(json!({"type": "object"}))}))});
    spec["paths"]["/api/me/sessions"] =
        json!({"get": mine("Where the account is signed in", json!({"200": list_of("Session")}))});
    spec["paths"]["/api/me/sessions/{id}"] = by_id("sessions (signs that browser out)");
    spec["paths"]["/api/me/tokens"] = json!({"get": mine("The account's API tokens (never the tokens themselves)", json!({"200": list_of("Token")}))});
    spec["paths"]["/api/me/tokens/{id}"] = by_id("API tokens (revokes it at once)");
    spec["components"]["schemas"]["Me"] = me_schema;
    spec["components"]["schemas"]["Session"] = session_schema;
    spec["components"]["schemas"]["Token"] = token_schema;
    spec["components"]["securitySchemes"] = json!({"bearer": {"type": "http", "scheme": "bearer", "description": "An API token from the account page"}});
    spec
}
