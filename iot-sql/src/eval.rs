//! Compile once, evaluate many: [`Rule`] holds the parsed statement, its FROM filter and its
//! precompiled regular expressions; [`Rule::evaluate`] takes a borrowed [`Message`].

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use mqtt_wire::{TopicFilter, TopicName};
use regex::Regex;

use crate::ast::{
    BinaryOp, CastType, Expr, ExprKind, Literal, Select, SelectItem, Source, Statement, UnaryOp,
};
use crate::error::{EvalError, ExternalError, ParseError};
use crate::functions::{self, Function};
use crate::ops;
use crate::parser::{self, ParseOptions};
use crate::template::Template;
use crate::value::{self, Map, Value};
use crate::version::SqlVersion;

/// What the rules engine knows about a message besides its topic and payload: the values of the
/// message-context functions (`clientid()`, `timestamp()`, `principal()`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The MQTT client id; `clientid()` is "n/a" when `None` (not sent over MQTT).
    pub clientid: Option<String>,
    /// Milliseconds since the Unix epoch when the message was received: `timestamp()`.
    pub timestamp: i64,
    /// The authenticated principal (certificate thumbprint, IAM id): `principal()`.
    pub principal: Option<String>,
    /// The account that owns the rule: `accountid()`.
    pub accountid: Option<String>,
    /// The message's trace id: `traceid()`.
    pub traceid: Option<String>,
    /// The publisher's IP address: `sourceip()`.
    pub sourceip: Option<String>,
}

/// One message offered to a rule.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The topic it was published to.
    pub topic: &'a str,
    /// The payload: JSON, or any bytes (reachable through `*` and `encode(*, 'base64')`).
    pub payload: &'a [u8],
    /// The message context.
    pub context: &'a Context,
}

/// Limits applied while evaluating, with safe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest payload evaluated, in bytes. Default 128 KiB, AWS IoT Core's message size limit.
    pub max_payload: usize,
    /// Largest string a rule may build (`+`, `concat`, `replace`, `regexp_replace`). Default 1 MiB.
    pub max_value_bytes: usize,
    /// Deepest nesting of arrays and objects in a value a rule builds: object and array
    /// literals, nested SELECT results, the SELECT output with its alias paths, function results
    /// (`[1]` is 1 deep). Default 127, the deepest JSON the payload parser (serde_json) reads, so
    /// an output is always readable as JSON, by another rule too. SET variables can wrap each
    /// other's values, so without this bound the depth of a value would grow with the number of
    /// variables and nested SELECTs, past what the recursive walks over values (output, JSON,
    /// comparison, drop) can take on a thread's stack. Past it: [`EvalError::ValueTooDeep`].
    pub max_value_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload: 128 * 1024,
            max_value_bytes: 1024 * 1024,
            max_value_depth: 127,
        }
    }
}

/// The functions that call AWS services (`aws_lambda`, `get_dynamodb`, `get_secret`,
/// `get_thing_shadow`, `get_registry_data`, `machinelearning_predict`). A gateway plugs in its
/// own; the default, [`NoExternalFunctions`], fails the evaluation.
pub trait ExternalFunctions: Send + Sync {
    /// Calls `function` with its evaluated arguments. An error terminates the rule (AWS runs no
    /// action when such a call fails).
    fn call(
        &self,
        function: Function,
        args: &[Value],
        context: &Context,
    ) -> Result<Value, ExternalError>;
}

/// The default [`ExternalFunctions`]: every call fails with "not configured".
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExternalFunctions;

impl ExternalFunctions for NoExternalFunctions {
    fn call(&self, function: Function, _: &[Value], _: &Context) -> Result<Value, ExternalError> {
        Err(functions::unavailable(function))
    }
}

/// The result of a rule whose FROM and WHERE matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The SELECT's value: an object, or with `SELECT VALUE` any value; `Binary` for `SELECT *`
    /// over a non-JSON payload.
    pub value: Value,
    /// The templates given to [`Rule::evaluate_with`], rendered in order.
    pub templates: Vec<String>,
}

impl Output {
    /// The bytes an action would send: the JSON text, or the raw bytes of a binary payload
    /// passed through by `SELECT *`; `Undefined` is empty.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        match &self.value {
            Value::Binary(b) => b.clone(),
            v => {
                let mut out = Vec::new();
                v.write_json(&mut out);
                out
            }
        }
    }

    /// The value as a `serde_json::Value` (`None` for `Undefined`).
    pub fn to_json_value(&self) -> Option<serde_json::Value> {
        self.value.to_json_value()
    }
}

/// A parsed rule statement, ready to evaluate many messages.
#[derive(Clone)]
pub struct Rule {
    statement: Statement,
    version: SqlVersion,
    filter: Option<TopicFilter>,
    /// Whether the filter has no wildcards: matching is then a string comparison.
    exact_topic: bool,
    regexes: Arc<HashMap<String, Regex>>,
    limits: Limits,
    external: Arc<dyn ExternalFunctions>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("sql", &self.statement.to_string())
            .field("version", &self.version)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.statement == other.statement
            && self.version == other.version
            && self.limits == other.limits
    }
}

fn collect_regexes(e: &Expr, out: &mut HashMap<String, Regex>) {
    match &e.kind {
        ExprKind::Call(f, args) => {
            if let Some(i) = f.regex_argument() {
                if let Some(Expr {
                    kind: ExprKind::Literal(Literal::String(p)),
                    ..
                }) = args.get(i)
                {
                    if let Some(re) = functions::compile_regex(p) {
                        out.insert(p.clone(), re);
                    }
                }
            }
            for a in args {
                collect_regexes(a, out);
            }
        }
        _ => collect_children(e, out),
    }
}

fn collect_children(e: &Expr, out: &mut HashMap<String, Regex>) {
    let mut visit = |e: &Expr| collect_regexes(e, out);
    match &e.kind {
        ExprKind::Member(b, _) | ExprKind::Unary(_, b) | ExprKind::Cast(b, _) => visit(b),
        ExprKind::Binary(_, l, r) => {
            visit(l);
            visit(r);
        }
        ExprKind::Case {
            operand,
            whens,
            otherwise,
        } => {
            visit(operand);
            for (w, t) in whens {
                visit(w);
                visit(t);
            }
            if let Some(o) = otherwise {
                visit(o);
            }
        }
        ExprKind::Object(m) => m.iter().for_each(|(_, v)| visit(v)),
        ExprKind::Array(items) => items.iter().for_each(visit),
        ExprKind::Subquery(s) => collect_select_regexes(s, out),
        ExprKind::Call(..) => {}
        ExprKind::Literal(_) | ExprKind::Field(_) | ExprKind::Wildcard | ExprKind::Variable(_) => {}
    }
}

fn collect_select_regexes(s: &Select, out: &mut HashMap<String, Regex>) {
    for item in &s.items {
        if let SelectItem::Expr { expr, .. } = item {
            collect_regexes(expr, out);
        }
    }
    if let Some(Source::Expr(e)) = &s.from {
        collect_regexes(e, out);
    }
    if let Some(c) = &s.condition {
        collect_regexes(c, out);
    }
}

impl Rule {
    /// Parses `sql` in `version` with the default [`ParseOptions`].
    pub fn parse(sql: &str, version: SqlVersion) -> Result<Rule, ParseError> {
        Rule::parse_with(sql, version, &ParseOptions::default())
    }

    /// Parses `sql` in `version` with explicit limits.
    pub fn parse_with(
        sql: &str,
        version: SqlVersion,
        options: &ParseOptions,
    ) -> Result<Rule, ParseError> {
        let statement = parser::parse_statement(sql, version, options)?;
        Ok(Rule::from_statement(statement, version))
    }

    /// A rule from an already-built statement (its FROM filter must be valid; an invalid one
    /// matches nothing). The statement is not checked against [`ParseOptions`]' depth limits:
    /// the tree is walked recursively, so one built in code must stay within them too.
    pub fn from_statement(statement: Statement, version: SqlVersion) -> Rule {
        let filter = match &statement.select.from {
            Some(Source::Topic(t)) => TopicFilter::new(t).ok(),
            _ => None,
        };
        let exact_topic = filter.as_ref().is_some_and(|f| !f.has_wildcards());
        let mut regexes = HashMap::new();
        for a in &statement.set {
            collect_regexes(&a.value, &mut regexes);
        }
        collect_select_regexes(&statement.select, &mut regexes);
        Rule {
            statement,
            version,
            filter,
            exact_topic,
            regexes: Arc::new(regexes),
            limits: Limits::default(),
            external: Arc::new(NoExternalFunctions),
        }
    }

    /// Replaces the evaluation limits.
    pub fn with_limits(mut self, limits: Limits) -> Rule {
        self.limits = limits;
        self
    }

    /// Plugs in the functions that call AWS services.
    pub fn with_external_functions(mut self, external: Arc<dyn ExternalFunctions>) -> Rule {
        self.external = external;
        self
    }

    /// The parsed statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The SQL version.
    pub fn version(&self) -> SqlVersion {
        self.version
    }

    /// The FROM topic filter; `None` when the statement has no FROM (it then matches every
    /// topic, as a Basic Ingest-only rule does).
    pub fn from_filter(&self) -> Option<&TopicFilter> {
        self.filter.as_ref()
    }

    /// Whether the FROM filter matches `topic`, by MQTT 3.1.1 matching (mqtt-wire): `a/#` also
    /// matches `a` [MQTT-4.7.1-2], although AWS's topic documentation describes `#` as matching
    /// only below the parent. The MQTT rule is kept so that a rule and a subscription with the
    /// same filter see the same messages.
    pub fn matches_topic(&self, topic: &str) -> bool {
        // Without wildcards a filter matches exactly the equal name (no normalisation,
        // [MQTT-4.7.3-4]); a valid wildcard-free filter is a valid name, so a string
        // comparison decides it without building a TopicName.
        match (&self.filter, &self.statement.select.from) {
            // Bytes compared: `as_str` would check the filter's UTF-8 again.
            (Some(filter), _) if self.exact_topic => filter.as_bytes().as_ref() == topic.as_bytes(),
            (Some(filter), _) => TopicName::new(topic).is_ok_and(|name| filter.matches(&name)),
            (None, Some(Source::Topic(_))) => false,
            (None, _) => true,
        }
    }

    /// Evaluates the rule: `Ok(None)` when FROM or WHERE does not match.
    pub fn evaluate(&self, message: &Message<'_>) -> Result<Option<Output>, EvalError> {
        self.evaluate_with(message, &[])
    }

    /// Evaluates the rule and renders `templates` against the same message (payload parsed
    /// once), with the rule's SET variables visible and its SELECT aliases not.
    pub fn evaluate_with(
        &self,
        message: &Message<'_>,
        templates: &[&Template],
    ) -> Result<Option<Output>, EvalError> {
        if !self.matches_topic(message.topic) {
            return Ok(None);
        }
        let mut env = Env::new(
            message,
            self.version,
            &self.limits,
            self.external.as_ref(),
            &self.regexes,
        )?;
        let mut vars: Vec<(String, Value)> = Vec::with_capacity(self.statement.set.len());
        for a in &self.statement.set {
            let v = {
                let scope = Scope {
                    row: Row::Payload,
                    vars: &vars,
                };
                env.eval(&a.value, &scope)?.into_owned()
            };
            vars.push((a.name.clone(), v));
        }
        let select = &self.statement.select;
        let rendered = {
            let scope = Scope {
                row: Row::Payload,
                vars: &vars,
            };
            if let Some(cond) = &select.condition {
                if env.eval(cond, &scope)?.to_bool() != Some(true) {
                    return Ok(None);
                }
            }
            let mut rendered = Vec::with_capacity(templates.len());
            for t in templates {
                rendered.push(t.render_in(&env, &scope)?);
            }
            rendered
        };
        // `SELECT *` alone hands over the parsed payload (already normalized) instead of
        // copying it.
        if !select.value && matches!(select.items.as_slice(), [SelectItem::Wildcard]) {
            return Ok(Some(Output {
                value: env.take_payload(),
                templates: rendered,
            }));
        }
        let value = {
            let scope = Scope {
                row: Row::Payload,
                vars: &vars,
            };
            env.project(select, &scope)?
        };
        Ok(Some(Output {
            value: value.normalize(self.version),
            templates: rendered,
        }))
    }
}

/// The current row of a scope: the message payload, or an element of a nested query's source.
#[derive(Clone, Copy)]
pub(crate) enum Row<'s> {
    Payload,
    Value(&'s Value),
}

#[derive(Clone, Copy)]
pub(crate) struct Scope<'s> {
    pub(crate) row: Row<'s>,
    pub(crate) vars: &'s [(String, Value)],
}

/// Per-evaluation state: the message, the lazily parsed payload, the limits.
pub(crate) struct Env<'a> {
    pub(crate) message: &'a Message<'a>,
    pub(crate) version: SqlVersion,
    pub(crate) limits: &'a Limits,
    pub(crate) external: &'a dyn ExternalFunctions,
    pub(crate) dynamodb_called: Cell<bool>,
    regexes: &'a HashMap<String, Regex>,
    payload: OnceCell<Value>,
}

static UNDEFINED: Value = Value::Undefined;

impl<'a> Env<'a> {
    pub(crate) fn new(
        message: &'a Message<'a>,
        version: SqlVersion,
        limits: &'a Limits,
        external: &'a dyn ExternalFunctions,
        regexes: &'a HashMap<String, Regex>,
    ) -> Result<Self, EvalError> {
        if message.payload.len() > limits.max_payload {
            return Err(EvalError::PayloadTooLarge {
                len: message.payload.len(),
                max: limits.max_payload,
            });
        }
        Ok(Env {
            message,
            version,
            limits,
            external,
            dynamodb_called: Cell::new(false),
            regexes,
            payload: OnceCell::new(),
        })
    }

    /// The payload, parsed on first use (at most once per message): JSON, or `Binary`.
    pub(crate) fn payload(&self) -> &Value {
        self.payload.get_or_init(|| self.parse_payload())
    }

    fn parse_payload(&self) -> Value {
        value::parse_payload(self.message.payload, self.version)
            .unwrap_or_else(|_| Value::Binary(self.message.payload.to_vec()))
    }

    /// The payload, owned: the parsed one if any, else parsed now.
    fn take_payload(&mut self) -> Value {
        match self.payload.take() {
            Some(v) => v,
            None => self.parse_payload(),
        }
    }

    fn row<'s>(&'s self, scope: &Scope<'s>) -> &'s Value {
        match scope.row {
            Row::Payload => self.payload(),
            Row::Value(v) => v,
        }
    }

    fn too_large(&self) -> EvalError {
        EvalError::ValueTooLarge {
            max: self.limits.max_value_bytes,
        }
    }

    /// An error past the value depth limit, else `v`.
    fn within_depth(&self, v: Value) -> Result<Value, EvalError> {
        if v.nests_deeper_than(self.limits.max_value_depth) {
            return Err(EvalError::ValueTooDeep {
                max: self.limits.max_value_depth,
            });
        }
        Ok(v)
    }

    /// Evaluates `e`. Recursive (one call per tree level, bounded by
    /// `ParseOptions::max_tree_depth`), so every case but the dispatch lives in its own function
    /// and the frame repeated per level stays small.
    pub(crate) fn eval<'s>(
        &'s self,
        e: &Expr,
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        match &e.kind {
            ExprKind::Literal(l) => Ok(Cow::Owned(self.literal(l))),
            ExprKind::Field(name) => Ok(Cow::Borrowed(self.row(scope).get(name))),
            ExprKind::Wildcard => Ok(Cow::Borrowed(self.row(scope))),
            ExprKind::Variable(name) => Ok(Cow::Borrowed(variable(scope.vars, name))),
            ExprKind::Member(base, name) => self.member(base, name, scope),
            ExprKind::Unary(op, operand) => self.unary(*op, operand, scope),
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, scope),
            ExprKind::Call(f, args) => self.call(*f, args, scope),
            ExprKind::Cast(operand, ty) => self.cast(operand, *ty, scope),
            ExprKind::Case {
                operand,
                whens,
                otherwise,
            } => self.case(operand, whens, otherwise.as_deref(), scope),
            ExprKind::Object(members) => self.object(members, scope),
            ExprKind::Array(items) => self.array(items, scope),
            ExprKind::Subquery(select) => self.subquery(select, scope).map(Cow::Owned),
        }
    }

    fn literal(&self, l: &Literal) -> Value {
        match l {
            Literal::Null => Value::Null,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => Value::Int(*i),
            Literal::Decimal(d) => Value::Decimal(*d).normalize(self.version),
            Literal::String(s) => Value::String(s.clone()),
        }
    }

    fn member<'s>(
        &'s self,
        base: &Expr,
        name: &str,
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        Ok(match self.eval(base, scope)? {
            Cow::Borrowed(v) => Cow::Borrowed(v.get(name)),
            // A member the object lacks is Undefined (as `Value::get`).
            Cow::Owned(Value::Object(mut map)) => {
                Cow::Owned(map.remove(name).unwrap_or(Value::Undefined))
            }
            Cow::Owned(_) => Cow::Borrowed(&UNDEFINED),
        })
    }

    fn unary<'s>(
        &'s self,
        op: UnaryOp,
        operand: &Expr,
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        let v = self.eval(operand, scope)?;
        Ok(Cow::Owned(match op {
            UnaryOp::Neg => ops::negate(&v),
            UnaryOp::Not => ops::not(&v),
        }))
    }

    fn binary<'s>(
        &'s self,
        op: BinaryOp,
        l: &Expr,
        r: &Expr,
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        let l = self.eval(l, scope)?;
        let r = self.eval(r, scope)?;
        match ops::binary(op, &l, &r, self.limits.max_value_bytes) {
            Some(v) => Ok(Cow::Owned(v)),
            None => Err(self.too_large()),
        }
    }

    fn call<'s>(
        &'s self,
        f: Function,
        args: &[Expr],
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        let mut values = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            // encode(*, ...) encodes the payload's bytes as received, JSON or not.
            if i == 0
                && f == Function::Encode
                && matches!(a.kind, ExprKind::Wildcard)
                && matches!(scope.row, Row::Payload)
            {
                values.push(Cow::Owned(Value::Binary(self.message.payload.to_vec())));
                continue;
            }
            // Borrowed where the argument is a field or a variable: functions read their
            // arguments, and copy only what their result keeps.
            values.push(self.eval(a, scope)?);
        }
        let regex = f.regex_argument().and_then(|i| match args.get(i) {
            Some(Expr {
                kind: ExprKind::Literal(Literal::String(p)),
                ..
            }) => self.regexes.get(p),
            _ => None,
        });
        // Some functions (transform, concat, the external ones) build arrays and objects.
        let v = functions::call(f, values, self, regex)?;
        Ok(Cow::Owned(self.within_depth(v)?))
    }

    fn cast<'s>(
        &'s self,
        operand: &Expr,
        ty: CastType,
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        let v = functions::cast_value(self.eval(operand, scope)?.as_ref(), ty);
        Ok(Cow::Owned(v.normalize(self.version)))
    }

    fn case<'s>(
        &'s self,
        operand: &Expr,
        whens: &[(Expr, Expr)],
        otherwise: Option<&Expr>,
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        let v = self.eval(operand, scope)?;
        // "If v is Undefined, the result of the case statement is Undefined", ELSE or not
        // (https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-case.html).
        if v.is_undefined() {
            return Ok(Cow::Borrowed(&UNDEFINED));
        }
        for (w, t) in whens {
            if v.sql_eq(self.eval(w, scope)?.as_ref()) == Some(true) {
                return self.eval(t, scope);
            }
        }
        match otherwise {
            Some(o) => self.eval(o, scope),
            // No match and no ELSE: Undefined (the CASE statement reference).
            None => Ok(Cow::Borrowed(&UNDEFINED)),
        }
    }

    fn object<'s>(
        &'s self,
        members: &[(String, Expr)],
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        let mut map = Map::new();
        for (k, v) in members {
            let v = self.eval(v, scope)?.into_owned();
            map.insert(k.clone(), v);
        }
        Ok(Cow::Owned(self.within_depth(Value::Object(map))?))
    }

    fn array<'s>(&'s self, items: &[Expr], scope: &Scope<'s>) -> Result<Cow<'s, Value>, EvalError> {
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            out.push(self.eval(i, scope)?.into_owned());
        }
        Ok(Cow::Owned(self.within_depth(Value::Array(out))?))
    }

    /// A nested SELECT: over an array source, once per element (an array of the results); over
    /// any other source, once (its result, or `Undefined` when WHERE does not hold).
    fn subquery<'s>(&'s self, select: &Select, scope: &Scope<'s>) -> Result<Value, EvalError> {
        let source = match &select.from {
            Some(Source::Expr(e)) => self.eval(e, scope)?,
            _ => Cow::Borrowed(self.row(scope)),
        };
        match source.as_ref() {
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    let inner = Scope {
                        row: Row::Value(item),
                        vars: scope.vars,
                    };
                    if let Some(v) = self.row_result(select, &inner)? {
                        if !v.is_undefined() {
                            out.push(v);
                        }
                    }
                }
                self.within_depth(Value::Array(out))
            }
            // Over anything else the query runs once. `FROM *` still yields an array (AWS:
            // `get((SELECT *, topic() AS topic FROM *), 0)` is the object): its one result,
            // or none when WHERE is false or the result is Undefined. Over a path its result
            // stands alone (the transform reference: `(select a, b from data2)` is an object).
            other => {
                let inner = Scope {
                    row: Row::Value(other),
                    vars: scope.vars,
                };
                let result = self.row_result(select, &inner)?;
                let from_star = matches!(
                    &select.from,
                    Some(Source::Expr(Expr {
                        kind: ExprKind::Wildcard,
                        ..
                    }))
                );
                if !from_star {
                    // WHERE false: the nested query yields Undefined.
                    return Ok(result.unwrap_or(Value::Undefined));
                }
                let out = match result {
                    Some(v) if !v.is_undefined() => vec![v],
                    _ => Vec::new(),
                };
                self.within_depth(Value::Array(out))
            }
        }
    }

    fn row_result<'s>(
        &'s self,
        select: &Select,
        scope: &Scope<'s>,
    ) -> Result<Option<Value>, EvalError> {
        if let Some(c) = &select.condition {
            if self.eval(c, scope)?.to_bool() != Some(true) {
                return Ok(None);
            }
        }
        self.project(select, scope).map(Some)
    }

    /// The SELECT list's value in `scope`.
    fn project<'s>(&'s self, select: &Select, scope: &Scope<'s>) -> Result<Value, EvalError> {
        if select.value {
            return match select.items.first() {
                Some(SelectItem::Expr { expr, .. }) => Ok(self.eval(expr, scope)?.into_owned()),
                Some(SelectItem::Wildcard) => Ok(self.row(scope).clone()),
                None => Ok(Value::Undefined),
            };
        }
        if let [SelectItem::Wildcard] = select.items.as_slice() {
            return Ok(self.row(scope).clone());
        }
        // The output object, its alias paths and the members `*` copies: checked once, whole.
        let mut out = Map::new();
        for (i, item) in select.items.iter().enumerate() {
            match item {
                SelectItem::Wildcard => {
                    if let Value::Object(map) = self.row(scope) {
                        for (k, v) in map {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                }
                SelectItem::Expr { expr, alias } => {
                    let v = self.eval(expr, scope)?.into_owned();
                    if v.is_undefined() {
                        continue;
                    }
                    match alias {
                        Some(path) => insert_path(&mut out, path, v),
                        None => {
                            out.insert(default_name(expr, i), v);
                        }
                    }
                }
            }
        }
        self.within_depth(Value::Object(out))
    }
}

/// The value of `@name` (the innermost binding), `Undefined` when unset.
fn variable<'s>(vars: &'s [(String, Value)], name: &str) -> &'s Value {
    vars.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map_or(&UNDEFINED, |(_, v)| v)
}

/// The output key of an unaliased item: a field's or member's name, a variable's name, a
/// function's name; otherwise `_N` for the item's 1-based position.
fn default_name(e: &Expr, index: usize) -> String {
    match &e.kind {
        ExprKind::Field(n) | ExprKind::Member(_, n) | ExprKind::Variable(n) => n.clone(),
        ExprKind::Call(f, _) => f.name().to_owned(),
        _ => format!("_{}", index.saturating_add(1)),
    }
}

/// Inserts `v` at a dotted alias path, creating (or replacing non-object) intermediate objects,
/// so `AS a.b` and `AS a.c` merge into `{"a": {"b": .., "c": ..}}`.
fn insert_path(out: &mut Map, path: &[String], v: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = out;
    for p in parents {
        let slot = map
            .entry(p.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !matches!(slot, Value::Object(_)) {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(inner) = slot else { return };
        map = inner;
    }
    map.insert(last.clone(), v);
}

/// Evaluates a lone expression against a message (the `sql-test` example's `"expr"` mode).
pub fn evaluate_expression(
    expr: &Expr,
    version: SqlVersion,
    message: &Message<'_>,
) -> Result<Value, EvalError> {
    let limits = Limits::default();
    let regexes = HashMap::new();
    let env = Env::new(message, version, &limits, &NoExternalFunctions, &regexes)?;
    let scope = Scope {
        row: Row::Payload,
        vars: &[],
    };
    Ok(env.eval(expr, &scope)?.into_owned().normalize(version))
}
