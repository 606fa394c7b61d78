import type { RequestHandler } from 'express';
import { roleAllows, type Role } from './principal';

/**
 * For routers outside the route table (e.g. knowledge uploads): 401 without `req.principal`, 403 `{ error }` when
 * its role is weaker than `role` (the same answers as the route table's `mountRoutes`), else next.
 */
export function requireRole(role: Role): RequestHandler {
  return (req, res, next) => {
    const p = req.principal;
    if (!p) {
      res.status(401).json({ error: 'authentication required' });
      return;
    }
    if (!roleAllows(p.role, role)) {
      res.status(403).json({ error: `this needs the ${role} role (you are ${p.role})` });
      return;
    }
    next();
  };
}
