// The one way the console talks to the server: JSON, the session cookie, and its CSRF token.

let csrfToken = '';

export function setCsrfToken(token) {
  csrfToken = token || '';
}

export class ApiError extends Error {
  constructor(status, body) {
    const message = body && typeof body === 'object' ? body.message : String(body || '');
    super(message || `HTTP ${status}`);
    this.status = status;
    this.errors = (body && typeof body === 'object' && body.errors) || {};
  }
}

export function queryString(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') query.set(key, value);
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

export async function api(method, path, { body, query } = {}) {
  const headers = { 'X-Requested-With': 'fetch', Accept: 'application/json' };
  let payload;
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) {
    if (typeof body === 'string') {
      payload = body;
      headers['Content-Type'] = 'text/plain';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  const response = await fetch(path + queryString(query), {
    method,
    headers,
    body: payload,
    credentials: 'same-origin',
  });
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/api/auth/')) {
      window.dispatchEvent(new CustomEvent('ejc:unauthorized'));
    }
    throw new ApiError(response.status, data);
  }
  return data;
}
