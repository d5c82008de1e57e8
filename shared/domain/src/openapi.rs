//! How the value types appear in the services' OpenAPI documents: each as the JSON it is on the
//! wire (a string with its pattern, an integer with its bounds), so a portal developer reading
//! `/openapi.json` and a contract test generating requests from it see the same rules the
//! parsers apply (as far as a schema can say them: a personal code's check digit it cannot).

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::{DocumentType, Dvvk, Email, Isikukood, Money};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

impl PartialSchema for Isikukood {
    fn schema() -> RefOr<Schema> {
        string("An Estonian personal code (isikukood): 11 digits, the last a check digit.")
            .pattern(Some("^[1-6][0-9]{10}$"))
            .examples(["49403136526"])
            .into()
    }
}
impl ToSchema for Isikukood {}

impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        string("An e-mail address: one `@`, a dotted domain, no whitespace.")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(254))
            .examples(["mari.maasikas@example.com"])
            .into()
    }
}
impl ToSchema for Email {}

impl PartialSchema for DocumentType {
    fn schema() -> RefOr<Schema> {
        string("A document type: lowercase words joined by `_`.")
            .pattern(Some("^[a-z_]{1,50}$"))
            .examples(["cv"])
            .into()
    }
}
impl ToSchema for DocumentType {}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .description(Some("An amount in euro cents (17000 is 170.00 €)."))
            .minimum(Some(0))
            .maximum(Some(1_000_000_000))
            .examples([17000])
            .into()
    }
}
impl ToSchema for Money {}

impl PartialSchema for Dvvk {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some(
                "A DVVK channel code (dokumendivahetuse viisi kood), e.g. 323 for a web form.",
            ))
            .examples([323])
            .into()
    }
}
impl ToSchema for Dvvk {}
