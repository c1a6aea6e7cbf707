//! Policy documents: parsing and validation into a compiled [`Policy`].

use std::fmt;

use crate::action::{ALL_ACTIONS, ActionPatternError, compile_action_pattern};
use crate::condition::{Compiled, Condition, Family, Values, compile_value, parse_operator};
use crate::error::{PathSeg, PolicyError, PolicyErrorKind};
use crate::json::{self, Member, Node, Value};
use crate::pattern::{Pattern, Syntax, compile};
use crate::variables::{KeyError, parse_key};

/// The default size limit: AWS IoT accepts policies of up to 2,048 characters, not counting
/// whitespace.
pub const DEFAULT_MAX_POLICY_SIZE: usize = 2048;

/// Options for [`Policy::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// The largest accepted document, in characters excluding whitespace. Default
    /// [`DEFAULT_MAX_POLICY_SIZE`].
    pub max_size: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_size: DEFAULT_MAX_POLICY_SIZE,
        }
    }
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// `2012-10-17`: `${...}` policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17` (also the meaning of a missing `Version`, as in IAM): `${...}` is literal
    /// text.
    V2008_10_17,
}

/// Whether a statement allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Effect {
    /// `"Effect": "Allow"`.
    Allow,
    /// `"Effect": "Deny"`.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// One resource entry with its JSON path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceEntry {
    pub(crate) pattern: Pattern,
    pub(crate) path: String,
}

/// One validated, compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    /// The actions the statement covers, `NotAction` already inverted.
    pub(crate) actions: u32,
    pub(crate) not_action: bool,
    /// `(text, path)` of each action entry, for lints.
    pub(crate) action_entries: Vec<(String, String)>,
    pub(crate) resources: Vec<ResourceEntry>,
    pub(crate) not_resource: bool,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) path: String,
}

impl Statement {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The statement's JSON path: `Statement[1]`, or `Statement` when it is a single object.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A parsed and validated AWS IoT policy document, compiled for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) version: Version,
    pub(crate) version_given: bool,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    /// Parses and validates a policy document.
    ///
    /// # Errors
    /// A [`PolicyError`] naming the first problem found, its JSON path and byte offset.
    pub fn parse(text: &str, options: &ParseOptions) -> Result<Policy, PolicyError> {
        let size = text.chars().filter(|c| !c.is_whitespace()).count();
        if size > options.max_size {
            return Err(PolicyError::new(
                PolicyErrorKind::TooLarge {
                    size,
                    limit: options.max_size,
                },
                &[],
                0,
            ));
        }
        let root = json::parse(text)?;
        Parser { path: Vec::new() }.document(&root)
    }

    /// The language version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

struct Parser {
    path: Vec<PathSeg>,
}

impl Parser {
    fn err(&self, kind: PolicyErrorKind, offset: usize) -> PolicyError {
        PolicyError::new(kind, &self.path, offset)
    }

    fn path_string(&self) -> String {
        crate::error::format_path(&self.path)
    }

    fn with<T>(
        &mut self,
        seg: PathSeg,
        f: impl FnOnce(&mut Self) -> Result<T, PolicyError>,
    ) -> Result<T, PolicyError> {
        self.path.push(seg);
        let out = f(self);
        self.path.pop();
        out
    }

    /// Exactly one of a key and its `Not` form (`Action`/`NotAction`): the member, and whether
    /// it is the negated one.
    fn one_of<'m>(
        &self,
        positive: Option<&'m Member>,
        negative: Option<&'m Member>,
        (name, not_name): (&'static str, &'static str),
        statement_offset: usize,
    ) -> Result<(&'m Member, bool), PolicyError> {
        match (positive, negative) {
            (Some(_), Some(m)) => Err(self.err(
                PolicyErrorKind::ConflictingKeys(name, not_name),
                m.key_offset,
            )),
            (Some(m), None) => Ok((m, false)),
            (None, Some(m)) => Ok((m, true)),
            (None, None) => Err(self.err(PolicyErrorKind::MissingKey(name), statement_offset)),
        }
    }

    fn object<'n>(&self, node: &'n Node) -> Result<&'n [Member], PolicyError> {
        match &node.value {
            Value::Object(members) => Ok(members),
            other => Err(self.err(
                PolicyErrorKind::WrongType {
                    expected: "an object",
                    found: other.type_name(),
                },
                node.offset,
            )),
        }
    }

    fn string<'n>(&self, node: &'n Node) -> Result<&'n str, PolicyError> {
        match &node.value {
            Value::String(s) => Ok(s),
            other => Err(self.err(
                PolicyErrorKind::WrongType {
                    expected: "a string",
                    found: other.type_name(),
                },
                node.offset,
            )),
        }
    }

    /// A string or a non-empty array of strings: `(text, offset, path)` of each.
    fn string_list(&mut self, node: &Node) -> Result<Vec<(String, usize, String)>, PolicyError> {
        match &node.value {
            Value::String(s) => Ok(vec![(s.clone(), node.offset, self.path_string())]),
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(self.err(PolicyErrorKind::EmptyList, node.offset));
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let entry = self.with(PathSeg::Index(i), |p| {
                        let s = p.string(item)?;
                        Ok((s.to_owned(), item.offset, p.path_string()))
                    })?;
                    out.push(entry);
                }
                Ok(out)
            }
            other => Err(self.err(
                PolicyErrorKind::WrongType {
                    expected: "a string or an array of strings",
                    found: other.type_name(),
                },
                node.offset,
            )),
        }
    }

    fn document(&mut self, root: &Node) -> Result<Policy, PolicyError> {
        let members = self.object(root)?;
        let mut version = None;
        let mut statement = None;
        for m in members {
            match m.key.as_str() {
                "Version" => version = Some(&m.value),
                "Statement" => statement = Some(&m.value),
                "Id" => {
                    self.with(PathSeg::Key(m.key.clone()), |p| {
                        p.string(&m.value).map(drop)
                    })?;
                }
                _ => {
                    return Err(self.with(PathSeg::Key(m.key.clone()), |p| {
                        Ok(p.err(PolicyErrorKind::UnknownKey(m.key.clone()), m.key_offset))
                    })?);
                }
            }
        }
        let (version, version_given) = match version {
            None => (Version::V2008_10_17, false),
            Some(node) => self.with(PathSeg::Key("Version".into()), |p| {
                match p.string(node)? {
                    "2012-10-17" => Ok((Version::V2012_10_17, true)),
                    "2008-10-17" => Ok((Version::V2008_10_17, true)),
                    other => Err(p.err(PolicyErrorKind::BadVersion(other.to_owned()), node.offset)),
                }
            })?,
        };
        let Some(statement) = statement else {
            return Err(self.err(PolicyErrorKind::MissingKey("Statement"), root.offset));
        };
        let variables = version == Version::V2012_10_17;
        let statements = self.with(PathSeg::Key("Statement".into()), |p| {
            match &statement.value {
                Value::Object(_) => Ok(vec![p.statement(statement, variables)?]),
                Value::Array(items) => {
                    if items.is_empty() {
                        return Err(p.err(PolicyErrorKind::EmptyList, statement.offset));
                    }
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        out.push(p.with(PathSeg::Index(i), |p| p.statement(item, variables))?);
                    }
                    Ok(out)
                }
                other => Err(p.err(
                    PolicyErrorKind::WrongType {
                        expected: "an object or an array of objects",
                        found: other.type_name(),
                    },
                    statement.offset,
                )),
            }
        })?;
        Ok(Policy {
            version,
            version_given,
            statements,
        })
    }

    fn statement(&mut self, node: &Node, variables: bool) -> Result<Statement, PolicyError> {
        let members = self.object(node)?;
        let mut sid = None;
        let mut effect = None;
        let mut action = None;
        let mut not_action = None;
        let mut resource = None;
        let mut not_resource = None;
        let mut condition = None;
        for m in members {
            let slot = match m.key.as_str() {
                "Sid" => &mut sid,
                "Effect" => &mut effect,
                "Action" => &mut action,
                "NotAction" => &mut not_action,
                "Resource" => &mut resource,
                "NotResource" => &mut not_resource,
                "Condition" => &mut condition,
                "Principal" | "NotPrincipal" => {
                    return Err(self.with(PathSeg::Key(m.key.clone()), |p| {
                        Ok(p.err(PolicyErrorKind::UnsupportedKey(m.key.clone()), m.key_offset))
                    })?);
                }
                _ => {
                    return Err(self.with(PathSeg::Key(m.key.clone()), |p| {
                        Ok(p.err(PolicyErrorKind::UnknownKey(m.key.clone()), m.key_offset))
                    })?);
                }
            };
            *slot = Some(m);
        }
        let path = self.path_string();
        let sid = match sid {
            Some(m) => Some(self.with(PathSeg::Key(m.key.clone()), |p| {
                p.string(&m.value).map(str::to_owned)
            })?),
            None => None,
        };
        let Some(effect) = effect else {
            return Err(self.err(PolicyErrorKind::MissingKey("Effect"), node.offset));
        };
        let effect = self.with(PathSeg::Key("Effect".into()), |p| {
            match p.string(&effect.value)? {
                "Allow" => Ok(Effect::Allow),
                "Deny" => Ok(Effect::Deny),
                other => Err(p.err(
                    PolicyErrorKind::BadEffect(other.to_owned()),
                    effect.value.offset,
                )),
            }
        })?;
        let (action_member, is_not_action) =
            self.one_of(action, not_action, ("Action", "NotAction"), node.offset)?;
        let (actions, action_entries) =
            self.with(PathSeg::Key(action_member.key.clone()), |p| {
                let entries = p.string_list(&action_member.value)?;
                let mut mask = 0u32;
                let mut texts = Vec::with_capacity(entries.len());
                for (text, offset, path) in entries {
                    match compile_action_pattern(&text) {
                        Ok(m) => mask |= m,
                        Err(e) => {
                            let kind = match e {
                                ActionPatternError::Malformed => PolicyErrorKind::BadAction(text),
                                ActionPatternError::Unknown => PolicyErrorKind::UnknownAction(text),
                            };
                            return Err(PolicyError::new(kind, &[], offset).with_path(path));
                        }
                    }
                    texts.push((text, path));
                }
                Ok((mask, texts))
            })?;
        let actions = if is_not_action {
            !actions & ALL_ACTIONS
        } else {
            actions
        };
        let (resource_member, is_not_resource) = self.one_of(
            resource,
            not_resource,
            ("Resource", "NotResource"),
            node.offset,
        )?;
        let resources = self.with(PathSeg::Key(resource_member.key.clone()), |p| {
            let entries = p.string_list(&resource_member.value)?;
            let mut out = Vec::with_capacity(entries.len());
            for (text, offset, path) in entries {
                if text != "*" && !text.starts_with("arn:") {
                    return Err(
                        PolicyError::new(PolicyErrorKind::BadResource(text), &[], offset)
                            .with_path(path),
                    );
                }
                let syntax = Syntax {
                    wildcards: true,
                    variables,
                };
                let pattern = compile(&text, syntax)
                    .map_err(|kind| PolicyError::new(kind, &[], offset).with_path(path.clone()))?;
                out.push(ResourceEntry { pattern, path });
            }
            Ok(out)
        })?;
        let conditions = match condition {
            None => Vec::new(),
            Some(m) => self.with(PathSeg::Key("Condition".into()), |p| {
                p.conditions(&m.value, variables)
            })?,
        };
        Ok(Statement {
            sid,
            effect,
            actions,
            not_action: is_not_action,
            action_entries,
            resources,
            not_resource: is_not_resource,
            conditions,
            path,
        })
    }

    fn conditions(&mut self, node: &Node, variables: bool) -> Result<Vec<Condition>, PolicyError> {
        let mut out = Vec::new();
        for op_member in self.object(node)? {
            self.with(PathSeg::Key(op_member.key.clone()), |p| {
                let Some(spec) = parse_operator(&op_member.key) else {
                    return Err(p.err(
                        PolicyErrorKind::UnknownOperator(op_member.key.clone()),
                        op_member.key_offset,
                    ));
                };
                let keys = p.object(&op_member.value)?;
                if keys.is_empty() {
                    return Err(p.err(PolicyErrorKind::EmptyList, op_member.value.offset));
                }
                for key_member in keys {
                    let condition = p.with(PathSeg::Key(key_member.key.clone()), |p| {
                        let key = parse_key(&key_member.key, false).map_err(|e| {
                            let why = match e {
                                KeyError::Unknown => "unknown key",
                                KeyError::Malformed(why) => why,
                            };
                            p.err(
                                PolicyErrorKind::MalformedVariable(format!(
                                    "condition key {:?}: {why}",
                                    key_member.key
                                )),
                                key_member.key_offset,
                            )
                        })?;
                        let texts = p.scalar_list(&key_member.value)?;
                        // An empty value set is valid IAM (AWS's connect-policy examples use
                        // `"iot:ConnectAttributes": []`): no value matches it. `Null` tests
                        // presence and needs its true or false.
                        if texts.is_empty() && matches!(spec.family, Family::Null) {
                            return Err(p.err(PolicyErrorKind::EmptyList, key_member.value.offset));
                        }
                        let operator = op_member.key.as_str();
                        let substitute =
                            variables && matches!(spec.family, Family::String { .. } | Family::Arn);
                        let mut compiled = Vec::with_capacity(texts.len());
                        for (text, offset, path) in texts {
                            match compile_value(spec.family, &text, substitute) {
                                Some(Ok(c)) => compiled.push(c),
                                Some(Err(kind)) => {
                                    return Err(PolicyError::new(kind, &[], offset).with_path(path));
                                }
                                None => {
                                    return Err(PolicyError::new(
                                        PolicyErrorKind::BadConditionValue {
                                            operator: operator.to_owned(),
                                            value: text,
                                        },
                                        &[],
                                        offset,
                                    )
                                    .with_path(path));
                                }
                            }
                        }
                        let values = collect_values(spec.family, compiled);
                        Ok(Condition {
                            operator: operator.into(),
                            key,
                            set: spec.set,
                            negated: spec.negated,
                            if_exists: spec.if_exists,
                            values,
                        })
                    })?;
                    out.push(condition);
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// Condition values: a scalar or an array of scalars (strings, numbers, booleans), which
    /// may be empty.
    fn scalar_list(&mut self, node: &Node) -> Result<Vec<(String, usize, String)>, PolicyError> {
        let scalar = |p: &Self, node: &Node| -> Result<String, PolicyError> {
            match &node.value {
                Value::String(s) | Value::Number(s) => Ok(s.clone()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(p.err(
                    PolicyErrorKind::WrongType {
                        expected: "a string, number or boolean",
                        found: other.type_name(),
                    },
                    node.offset,
                )),
            }
        };
        match &node.value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.with(PathSeg::Index(i), |p| {
                        Ok((scalar(p, item)?, item.offset, p.path_string()))
                    })?);
                }
                Ok(out)
            }
            _ => Ok(vec![(scalar(self, node)?, node.offset, self.path_string())]),
        }
    }
}

fn collect_values(family: Family, compiled: Vec<Compiled>) -> Values {
    match family {
        Family::String { fold, .. } => Values::Patterns {
            patterns: compiled
                .into_iter()
                .filter_map(|c| match c {
                    Compiled::Pattern(p) => Some(p),
                    _ => None,
                })
                .collect(),
            fold,
        },
        Family::Arn => Values::Patterns {
            patterns: compiled
                .into_iter()
                .filter_map(|c| match c {
                    Compiled::Pattern(p) => Some(p),
                    _ => None,
                })
                .collect(),
            fold: false,
        },
        Family::Numeric(cmp) => Values::Numbers(
            cmp,
            compiled
                .into_iter()
                .filter_map(|c| match c {
                    Compiled::Number(n) => Some(n),
                    _ => None,
                })
                .collect(),
        ),
        Family::Date(cmp) => Values::Dates(
            cmp,
            compiled
                .into_iter()
                .filter_map(|c| match c {
                    Compiled::Date(d) => Some(d),
                    _ => None,
                })
                .collect(),
        ),
        Family::Bool | Family::Null => {
            let bools = compiled
                .into_iter()
                .filter_map(|c| match c {
                    Compiled::Bool(b) => Some(b),
                    _ => None,
                })
                .collect();
            if family == Family::Null {
                Values::Null(bools)
            } else {
                Values::Bools(bools)
            }
        }
        Family::Ip => Values::Cidrs(
            compiled
                .into_iter()
                .filter_map(|c| match c {
                    Compiled::Cidr(net) => Some(net),
                    _ => None,
                })
                .collect(),
        ),
    }
}
