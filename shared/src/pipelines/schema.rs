//! A manual trigger's input schema: the part of JSON Schema a run's input is checked
//! against — `type` (object, array, string, number, integer, boolean, null), `required` and
//! `properties` (recursively), `items`, and `enum`. Anything else in the schema is ignored.

use serde_json::Value;

/// Whether `input` matches `schema`; the error names where it does not (`input.user.id`).
pub fn check_input(schema: &Value, input: &Value) -> Result<(), String> {
    check(schema, input, "input", 0)
}

fn check(schema: &Value, value: &Value, at: &str, depth: usize) -> Result<(), String> {
    if depth > 32 || !schema.is_object() {
        return Ok(());
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => true,
        };
        if !ok {
            return Err(format!("{at} must be {}", article(kind)));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            return Err(format!(
                "{at} must be one of {}",
                Value::Array(allowed.clone())
            ));
        }
    }
    if let (Some(object), Some(required)) = (
        value.as_object(),
        schema.get("required").and_then(Value::as_array),
    ) {
        for name in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                return Err(format!("{at}.{name} is required"));
            }
        }
    }
    if let (Some(object), Some(properties)) = (
        value.as_object(),
        schema.get("properties").and_then(Value::as_object),
    ) {
        for (name, sub) in properties {
            if let Some(v) = object.get(name) {
                check(sub, v, &format!("{at}.{name}"), depth + 1)?;
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(schema, item, &format!("{at}.{i}"), depth + 1)?;
        }
    }
    Ok(())
}

fn article(kind: &str) -> String {
    match kind {
        "object" | "array" | "integer" => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inputs_are_checked_where_they_differ() {
        let schema = json!({"type": "object", "required": ["user"],
            "properties": {"user": {"type": "object", "required": ["id"],
                "properties": {"id": {"type": "integer"}, "role": {"enum": ["admin", "dev"]}}},
                "tags": {"type": "array", "items": {"type": "string"}}}});
        assert_eq!(
            check_input(
                &schema,
                &json!({"user": {"id": 3, "role": "dev"}, "tags": ["a"]})
            ),
            Ok(())
        );
        assert_eq!(
            check_input(&schema, &json!({})),
            Err("input.user is required".into())
        );
        assert_eq!(
            check_input(&schema, &json!({"user": {"id": "x"}})),
            Err("input.user.id must be an integer".into())
        );
        assert!(check_input(&schema, &json!({"user": {"id": 1, "role": "root"}})).is_err());
        assert_eq!(
            check_input(&schema, &json!({"user": {"id": 1}, "tags": [1]})),
            Err("input.tags.0 must be a string".into())
        );
        assert_eq!(
            check_input(&schema, &json!([])),
            Err("input must be an object".into())
        );
        assert_eq!(check_input(&json!(null), &json!(5)), Ok(()));
    }
}
