// Who is signed in, and what the server offers.

export const session = { username: '', role: 'viewer', authEnabled: true, traceConfigured: false, auditPersistent: false };

export function canWrite() {
  return session.role === 'admin';
}
