import type { RequestHandler } from 'express';

/** Fn answers a known path with the wrong method with 405. */
export const methodNotAllowed: RequestHandler = (req, res) => {
  res.status(405).json({ message: `Method not allowed: ${req.method} ${req.path}` });
};
