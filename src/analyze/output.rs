//! The reports as JSON or as long CSV. Both come from one tree made from the statistics' own
//! serialisation, which keeps their fields in declaration order (serde_json's `Value` would
//! sort them), so the two formats carry the same names and the same full-precision numbers.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// A JSON value whose objects keep their fields' order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

static NULL: Node = Node::Null;

impl Node {
    /// The tree of any serialisable report.
    pub fn of<T: Serialize>(report: &T) -> Node {
        serde_json::to_string(report)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Node::Null)
    }

    /// A field of an object; `Null` when there is none.
    pub fn get(&self, field: &str) -> &Node {
        match self {
            Node::Map(fields) => fields
                .iter()
                .find(|(k, _)| k == field)
                .map_or(&NULL, |(_, v)| v),
            _ => &NULL,
        }
    }

    pub fn get_mut(&mut self, field: &str) -> Option<&mut Node> {
        match self {
            Node::Map(fields) => fields.iter_mut().find(|(k, _)| k == field).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets a field of an object, in place or at the end.
    pub fn set(&mut self, field: &str, value: Node) {
        if let Node::Map(fields) = self {
            match fields.iter_mut().find(|(k, _)| k == field) {
                Some((_, v)) => *v = value,
                None => fields.push((field.to_string(), value)),
            }
        }
    }

    pub fn list(&self) -> &[Node] {
        match self {
            Node::List(items) => items,
            _ => &[],
        }
    }

    pub fn list_mut(&mut self) -> &mut [Node] {
        match self {
            Node::List(items) => items,
            _ => &mut [],
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Node::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Node::List(_) | Node::Map(_))
    }

    /// As one CSV cell: numbers as JSON writes them, null as empty.
    pub fn text(&self) -> String {
        match self {
            Node::Null | Node::List(_) | Node::Map(_) => String::new(),
            Node::Bool(b) => b.to_string(),
            Node::Number(n) => n.to_string(),
            Node::Str(s) => s.clone(),
        }
    }

    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::Str(v) => s.serialize_str(v),
            Node::List(items) => s.collect_seq(items),
            Node::Map(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Node::Null, Node::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut fields = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Node>()? {
            fields.push((k, v));
        }
        Ok(Node::Map(fields))
    }
}

/// The long CSV: `table,id,sub,statistic,value`, one number per row. Ids are the input files'
/// words (item ids, rater and group names), so it writes through `csv_safe`.
pub(super) struct LongCsv {
    w: crate::csv_safe::Writer,
}

impl LongCsv {
    pub(super) fn new() -> Self {
        let mut w = crate::csv_safe::Writer::new();
        w.write_record(["table", "id", "sub", "statistic", "value"]);
        Self { w }
    }

    pub(super) fn row(&mut self, table: &str, id: &str, sub: &str, statistic: &str, value: &Node) {
        self.w
            .write_record([table, id, sub, statistic, &value.text()]);
    }

    /// Every scalar field of an object, in order, except those named in `skip`.
    pub(super) fn scalars(
        &mut self,
        table: &str,
        id: &str,
        sub: &str,
        object: &Node,
        skip: &[&str],
    ) {
        if let Node::Map(fields) = object {
            for (field, value) in fields {
                if value.is_scalar() && !skip.contains(&field.as_str()) {
                    self.row(table, id, sub, field, value);
                }
            }
        }
    }

    pub(super) fn finish(self) -> String {
        self.w.into_string()
    }
}

/// Tables `form`, `distribution` (id the score), `domain`, `domain_distribution` (id the
/// domain, sub the score), `item` (with one `flag` row per flag), `option` (sub the letter)
/// and, with `--cut`, `decision`.
pub fn items_csv(report: &Node) -> String {
    let mut out = LongCsv::new();
    let form = report.get("form");
    out.scalars("form", "", "", form, &[]);
    out.row("form", "", "", "group_27", report.get("group_27"));
    for (score, count) in form.get("distribution").list().iter().enumerate() {
        out.row("distribution", &score.to_string(), "", "count", count);
    }
    for d in report.get("domains").list() {
        let id = d.get("domain").text();
        out.scalars("domain", &id, "", d, &["domain"]);
        for (score, count) in d.get("distribution").list().iter().enumerate() {
            out.row(
                "domain_distribution",
                &id,
                &score.to_string(),
                "count",
                count,
            );
        }
    }
    for item in report.get("items").list() {
        let id = item.get("item").text();
        out.scalars("item", &id, "", item, &["item"]);
        for flag in item.get("flags").list() {
            out.row("item", &id, "", "flag", flag);
        }
        for option in item.get("options").list() {
            let letter = option.get("option").text();
            out.scalars("option", &id, &letter, option, &["option"]);
        }
    }
    // With `--cut`: decision consistency and accuracy at the cut.
    out.scalars("decision", "", "", report.get("decision"), &[]);
    out.finish()
}

/// Tables `all`, `confusion` (id the first reading's score, sub the second's), `rater`, `item`,
/// `rater_pair` (id and sub the two raters) and `day`.
pub fn agreement_csv(report: &Node) -> String {
    let mut out = LongCsv::new();
    out.scalars("all", "", "", report, &[]);
    let min = report.get("min_score").as_i64().unwrap_or(0);
    for (i, row) in report.get("confusion").list().iter().enumerate() {
        for (j, count) in row.list().iter().enumerate() {
            let (a, b) = (min + i as i64, min + j as i64);
            out.row("confusion", &a.to_string(), &b.to_string(), "count", count);
        }
    }
    for r in report.get("raters").list() {
        out.scalars("rater", &r.get("rater").text(), "", r, &["rater"]);
    }
    for i in report.get("items").list() {
        out.scalars("item", &i.get("item").text(), "", i, &["item"]);
    }
    for p in report.get("rater_pairs").list() {
        let (a, b) = (p.get("rater_a").text(), p.get("rater_b").text());
        out.scalars("rater_pair", &a, &b, p, &["rater_a", "rater_b"]);
    }
    for d in report.get("days").list() {
        out.scalars("day", &d.get("day").text(), "", d, &["day"]);
    }
    out.finish()
}

/// Tables `group` (id the group's name, sub its role) and `item`.
pub fn dif_csv(report: &Node) -> String {
    let mut out = LongCsv::new();
    for role in ["reference", "focal"] {
        let name = report.get(&format!("{role}_group")).text();
        out.row("group", &name, role, "candidates", report.get(role));
    }
    for item in report.get("items").list() {
        out.scalars("item", &item.get("item").text(), "", item, &["item"]);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Sample {
        zeta: f64,
        alpha: Option<f64>,
        list: Vec<u64>,
        name: &'static str,
    }

    #[test]
    fn the_tree_keeps_field_order_and_full_precision() {
        let node = Node::of(&Sample {
            zeta: 0.1 + 0.2,
            alpha: None,
            list: vec![1, 2],
            name: "x",
        });
        assert_eq!(
            serde_json::to_string(&node).unwrap(),
            r#"{"zeta":0.30000000000000004,"alpha":null,"list":[1,2],"name":"x"}"#
        );
        assert_eq!(node.get("zeta").text(), "0.30000000000000004");
        assert_eq!(node.get("alpha").text(), "");
        assert_eq!(node.get("missing"), &Node::Null);
        let mut node = node;
        node.set("name", Node::Str("y".into()));
        node.set("extra", Node::Bool(true));
        assert_eq!(node.get("name").text(), "y");
        assert_eq!(node.get("extra").text(), "true");
    }
}
