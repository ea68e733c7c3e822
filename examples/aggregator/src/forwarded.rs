//! The requests the aggregator forwards to a backend that the backend may ask their client
//! about while it answers (`tools/call`, `prompts/get`, `resources/read`, `completion/complete`):
//! what each is on the wire, what its answer is, and what a `2026-07-28` retry of it names.

use rmcp::ServiceError;
use rmcp::model::*;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::LazyLock;

/// What a request is about, its method and name, as a hash keyed for this process: a round's
/// retry must be about the same. Keyed, a client cannot make two names collide; a hash, holding
/// it costs a call no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Subject(u64);

impl Subject {
    /// The subject of a request for `method` about `name`.
    pub(crate) fn of(method: &str, name: &str) -> Self {
        static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
        let mut hasher = KEYS.build_hasher();
        hasher.write(method.as_bytes());
        // Never in UTF-8: the method and the name cannot run into each other.
        hasher.write_u8(0xff);
        hasher.write(name.as_bytes());
        Subject(hasher.finish())
    }
}

/// A request forwarded to a backend, which may send the client requests while it runs.
pub(crate) trait Forwarded: Send + 'static {
    /// What the client gets back.
    type Response: Send;

    /// Whether the method can answer `input_required` (`completion/complete` cannot): only then
    /// are a `2026-07-28` client's questions asked as rounds of it.
    const ROUNDS: bool;

    /// The request's `_meta`: the trace context and the client's log level go there.
    fn meta(&mut self) -> &mut Option<RequestMetaObject>;

    /// What the request is about, its method and name: a round's retry must be about the same.
    fn subject(&self) -> Subject;

    /// The `requestState` of a `2026-07-28` retry, and its `inputResponses`.
    fn retry(&self) -> (Option<&str>, Option<&InputResponses>);

    /// The request as sent.
    fn into_request(self) -> ClientRequest;

    /// The backend's answer as the client's response.
    fn answered(result: ServerResult) -> Result<Self::Response, ServiceError>;

    /// The client's response for a round that asks it something (only when [`Self::ROUNDS`]).
    fn input_required(result: InputRequiredResult) -> Option<Self::Response>;
}

/// A method that may answer `input_required`, so a `2026-07-28` client's questions are asked as
/// rounds of it: `params: "method" about name_field, Request -> Response { Result => Variant }`,
/// the backend's results listed with the variant of the response each becomes.
macro_rules! with_rounds {
    ($params:ty: $method:literal about $name:ident, $request:ident -> $response:ident {
        $($result:ident => $variant:ident),+ $(,)?
    }) => {
        impl Forwarded for $params {
            type Response = $response;
            const ROUNDS: bool = true;

            fn meta(&mut self) -> &mut Option<RequestMetaObject> {
                &mut self.meta
            }

            fn subject(&self) -> Subject {
                Subject::of($method, &self.$name)
            }

            fn retry(&self) -> (Option<&str>, Option<&InputResponses>) {
                (self.request_state.as_deref(), self.input_responses.as_ref())
            }

            fn into_request(self) -> ClientRequest {
                ClientRequest::$request($request::new(self))
            }

            fn answered(result: ServerResult) -> Result<$response, ServiceError> {
                match result {
                    $(ServerResult::$result(r) => Ok($response::$variant(r)),)+
                    _ => Err(ServiceError::UnexpectedResponse),
                }
            }

            fn input_required(result: InputRequiredResult) -> Option<$response> {
                Some($response::InputRequired(result))
            }
        }
    };
}

with_rounds!(CallToolRequestParams: "tools/call" about name, CallToolRequest -> CallToolResponse {
    CallToolResult => Complete,
    InputRequiredResult => InputRequired,
    CreateTaskResult => Task,
});

with_rounds!(GetPromptRequestParams: "prompts/get" about name, GetPromptRequest -> GetPromptResponse {
    GetPromptResult => Complete,
    InputRequiredResult => InputRequired,
});

with_rounds!(ReadResourceRequestParams: "resources/read" about uri, ReadResourceRequest -> ReadResourceResponse {
    ReadResourceResult => Complete,
    InputRequiredResult => InputRequired,
});

impl Forwarded for CompleteRequestParams {
    type Response = CompleteResult;
    const ROUNDS: bool = false;

    fn meta(&mut self) -> &mut Option<RequestMetaObject> {
        &mut self.meta
    }

    fn subject(&self) -> Subject {
        Subject::of("completion/complete", "")
    }

    fn retry(&self) -> (Option<&str>, Option<&InputResponses>) {
        (None, None)
    }

    fn into_request(self) -> ClientRequest {
        ClientRequest::CompleteRequest(CompleteRequest::new(self))
    }

    fn answered(result: ServerResult) -> Result<CompleteResult, ServiceError> {
        match result {
            ServerResult::CompleteResult(r) => Ok(r),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    fn input_required(_: InputRequiredResult) -> Option<CompleteResult> {
        None
    }
}
