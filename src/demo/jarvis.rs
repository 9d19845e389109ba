//! The demo repository's files: a FastAPI + React assistant whose security
//! fixes live at known lines (the layout the team's rules were written for).

/// Pad `out` with plausible helper code until it holds `target - 1` lines, so
/// the next line written is line `target`.
fn pad_to(out: &mut Vec<String>, target: usize, topic: &str) {
    let mut n = 0;
    while out.len() + 6 < target {
        n += 1;
        out.extend([
            format!("def _{topic}_helper_{n}(request: Request) -> dict:"),
            format!("    \"\"\"{topic} bookkeeping step {n}.\"\"\""),
            format!("    state = getattr(request.state, \"{topic}\", {{}})"),
            format!("    state[\"step_{n}\"] = time.monotonic()"),
            "    return state".to_string(),
            String::new(),
        ]);
    }
    while out.len() + 1 < target {
        out.push(String::new());
    }
}

/// `backend/main.py`: middleware stack at 5-184, JWT-protected /chat at
/// 340-358, WebSocket JWT authentication at 557-676.
pub fn main_py() -> String {
    let mut l: Vec<String> = [
        "\"\"\"Jarvis backend: FastAPI application.\"\"\"",
        "import time",
        "from fastapi import FastAPI, Depends, Request, WebSocket, HTTPException",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // 5-184: the security middleware stack.
    let mw = [
        "# --- security middleware stack (do not reorder) ---",
        "from fastapi.middleware.trustedhost import TrustedHostMiddleware",
        "from fastapi.middleware.cors import CORSMiddleware",
        "from backend.auth.security import verify_jwt, SECRET_KEY",
        "",
        "app = FastAPI(title=\"Jarvis\")",
        "",
        "ALLOWED_HOSTS = [\"jarvis.example\", \"api.jarvis.example\", \"localhost\"]",
        "app.add_middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS)",
        "",
        "app.add_middleware(",
        "    CORSMiddleware,",
        "    allow_origins=[\"https://jarvis.example\"],",
        "    allow_credentials=True,",
        "    allow_methods=[\"GET\", \"POST\"],",
        "    allow_headers=[\"Authorization\", \"Content-Type\"],",
        ")",
        "",
        "RATE_LIMIT_PER_MINUTE = 60",
        "_hits: dict[str, list[float]] = {}",
        "",
        "",
        "@app.middleware(\"http\")",
        "async def rate_limit(request: Request, call_next):",
        "    client = request.client.host if request.client else \"unknown\"",
        "    now = time.monotonic()",
        "    window = [t for t in _hits.get(client, []) if now - t < 60]",
        "    if len(window) >= RATE_LIMIT_PER_MINUTE:",
        "        raise HTTPException(status_code=429, detail=\"rate limit exceeded\")",
        "    window.append(now)",
        "    _hits[client] = window",
        "    return await call_next(request)",
        "",
        "",
        "CSP = (",
        "    \"default-src 'self'; script-src 'self'; object-src 'none'; \"",
        "    \"frame-ancestors 'none'; base-uri 'self'\"",
        ")",
        "",
        "",
        "@app.middleware(\"http\")",
        "async def security_headers(request: Request, call_next):",
        "    response = await call_next(request)",
        "    response.headers[\"Content-Security-Policy\"] = CSP",
        "    response.headers[\"X-Content-Type-Options\"] = \"nosniff\"",
        "    response.headers[\"X-Frame-Options\"] = \"DENY\"",
        "    response.headers[\"Referrer-Policy\"] = \"no-referrer\"",
        "    response.headers[\"Strict-Transport-Security\"] = \"max-age=63072000\"",
        "    return response",
        "",
    ];
    l.extend(mw.iter().map(|s| s.to_string()));
    pad_to(&mut l, 184, "middleware");
    l.push("# --- end of security middleware stack ---".into());
    pad_to(&mut l, 340, "settings");
    // 340-358: JWT-protected /chat.
    let chat = [
        "@app.post(\"/chat\")",
        "async def chat(request: Request, user=Depends(verify_jwt)):",
        "    \"\"\"Answer a chat message for an authenticated user.\"\"\"",
        "    body = await request.json()",
        "    message = str(body.get(\"message\", \"\"))[:4000]",
        "    if not message:",
        "        raise HTTPException(status_code=400, detail=\"empty message\")",
        "    history = body.get(\"history\", [])[-20:]",
        "    reply = await assistant.respond(",
        "        user_id=user[\"sub\"],",
        "        message=message,",
        "        history=history,",
        "    )",
        "    audit_log.info(\"chat\", user=user[\"sub\"], size=len(message))",
        "    return {",
        "        \"reply\": reply.text,",
        "        \"tokens\": reply.tokens,",
        "        \"model\": reply.model,",
        "    }",
    ];
    l.extend(chat.iter().map(|s| s.to_string()));
    pad_to(&mut l, 557, "history");
    // 557-676: WebSocket JWT authentication.
    let ws_head = [
        "@app.websocket(\"/ws\")",
        "async def websocket_endpoint(websocket: WebSocket):",
        "    \"\"\"Authenticate the socket with a JWT before accepting any frame.\"\"\"",
        "    token = websocket.query_params.get(\"token\")",
        "    if token is None:",
        "        await websocket.close(code=4401)",
        "        return",
        "    try:",
        "        user = verify_jwt(token)",
        "    except HTTPException:",
        "        await websocket.close(code=4401)",
        "        return",
        "    await websocket.accept()",
    ];
    l.extend(ws_head.iter().map(|s| s.to_string()));
    let mut k = 0;
    while l.len() < 670 {
        k += 1;
        l.extend([
            format!("    frame_{k} = await websocket.receive_json()"),
            format!("    if frame_{k}.get(\"type\") == \"ping\":"),
            "        await websocket.send_json({\"type\": \"pong\"})".to_string(),
            format!("    elif frame_{k}.get(\"token\") != token:"),
            "        await websocket.close(code=4403)".to_string(),
            "        return".to_string(),
        ]);
    }
    l.truncate(670);
    l.extend(
        [
            "    while True:",
            "        frame = await websocket.receive_json()",
            "        reply = await assistant.respond(user_id=user[\"sub\"], message=frame[\"message\"])",
            "        await websocket.send_json({\"reply\": reply.text})",
            "        audit_log.info(\"ws\", user=user[\"sub\"])",
            "    # --- end of WebSocket authentication ---",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    l.extend(
        [
            "",
            "",
            "@app.get(\"/health\")",
            "async def health():",
            "    return {\"status\": \"ok\"}",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    l.join("\n") + "\n"
}

pub const SECURITY_PY: &str = r#""""JWT helpers and SECRET_KEY validation."""
import os
import jwt
from fastapi import HTTPException

SECRET_KEY = os.environ.get("JARVIS_SECRET_KEY", "")
if len(SECRET_KEY) < 32:
    raise RuntimeError("JARVIS_SECRET_KEY must be set and at least 32 characters long")

ALGORITHM = "HS256"


def verify_jwt(token: str) -> dict:
    try:
        return jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
    except jwt.PyJWTError as exc:
        raise HTTPException(status_code=401, detail="invalid token") from exc
"#;

pub const SECRETS_PY: &str = r#""""Secrets at rest: PBKDF2-derived keys."""
import hashlib
import os

PBKDF2_ITERATIONS = 600_000


def derive_key(password: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    salt = salt or os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ITERATIONS)
    return key, salt
"#;

pub const INDEX_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta http-equiv="Content-Security-Policy"
          content="default-src 'self'; script-src 'self'; connect-src 'self' wss://api.jarvis.example; object-src 'none'" />
    <title>Jarvis</title>
  </head>
  <body>
    <div id="root"></div>
  </body>
</html>
"#;

pub const CHAT_JSX: &str = r#"import { useCallback, useEffect, useRef, useState } from "react";

export default function Chat({ token }) {
  const [messages, setMessages] = useState([]);
  const socketRef = useRef(null);

  // speakMessage must be defined before connectWebSocket: the socket handler uses it.
  const speakMessage = useCallback((text) => {
    if (!window.speechSynthesis) return;
    const utterance = new SpeechSynthesisUtterance(text);
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
  }, []);

  const connectWebSocket = useCallback(() => {
    const socket = new WebSocket(`wss://api.jarvis.example/ws?token=${token}`);
    socket.onmessage = (event) => {
      const { reply } = JSON.parse(event.data);
      setMessages((m) => [...m, { from: "jarvis", text: reply }]);
      speakMessage(reply);
    };
    socketRef.current = socket;
  }, [token, speakMessage]);

  useEffect(() => {
    connectWebSocket();
    return () => socketRef.current?.close();
  }, [connectWebSocket]);

  return (
    <ul>
      {messages.map((m, i) => (
        <li key={i}>{m.text}</li>
      ))}
    </ul>
  );
}
"#;

pub const MANIFEST: &str = r#"# Jarvis: the security zones nobody changes without two instances' consent.
version = 1

[policy]
signoffs = 2
trailers = ["Signed-off-by"]
author_counts = false
audit_trailers = ["Why", "Impact", "Tests", "Rollback"]

[[instance]]
id = "alpha"
emails = ["alpha@jarvis.example"]

[[instance]]
id = "beta"
emails = ["beta@jarvis.example"]

[[instance]]
id = "gamma"
emails = ["gamma@jarvis.example"]

# "Never without Enzo's validation": the CSP counts only Enzo's sign-off.
[[instance]]
id = "enzo"
emails = ["enzo@jarvis.example"]

[[zone]]
id = "security-middleware"
path = "backend/main.py"
lines = "5-184"
reason = "Security middleware stack: TrustedHost, CORS, rate limiting, CSP headers"

[[zone]]
id = "chat-jwt"
path = "backend/main.py"
lines = "340-358"
reason = "JWT authentication on /chat"

[[zone]]
id = "websocket-auth"
path = "backend/main.py"
lines = "557-676"
reason = "WebSocket JWT authentication"

[[zone]]
id = "auth-security"
path = "backend/auth/security.py"
reason = "SECRET_KEY validation and JWT verification"
# "After a task, document it": a change here must also update the fixes log.
also_change = ["docs/SECURITY_FIXES_APPLIED.md"]

[[zone]]
id = "secrets"
path = "backend/config/secrets.py"
reason = "PBKDF2 key derivation"

[[zone]]
id = "csp"
path = "frontend/public/index.html"
lines = "5-6"
reason = "Content-Security-Policy"
approvers = ["enzo"]
signoffs = 1

[[zone]]
id = "speak-message"
path = "frontend/src/components/Chat.jsx"
lines = "7-13"
reason = "speakMessage hook (must precede connectWebSocket)"

[[zone]]
id = "connect-websocket"
path = "frontend/src/components/Chat.jsx"
lines = "15-23"
reason = "connectWebSocket hook"

[[invariant]]
path = "backend/main.py"
must_contain = "TrustedHostMiddleware"
reason = "TrustedHostMiddleware must stay enabled"

[[invariant]]
path = "frontend/src/components/Chat.jsx"
must_contain = "(?s)const speakMessage.*const connectWebSocket"
reason = "speakMessage must be defined before connectWebSocket"
"#;
