import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { isTemporaryDatabaseFailure } from '../db/failures.js';
import { HttpError, UnavailableError } from '../errors.js';

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  limit?: number;
}

const BODY_ERRORS: Record<string, [number, string]> = {
  'entity.too.large': [413, 'request body is larger than BODY_LIMIT'],
  'encoding.unsupported': [415, 'unsupported content encoding'],
  'charset.unsupported': [415, 'unsupported charset'],
  'request.aborted': [400, 'request aborted'],
  'entity.verify.failed': [400, 'request body rejected'],
  'stream.encoding.set': [500, 'internal error'],
};

/** Answers 404 for any path no route handles (through the error handler, which picks JSON or HTML). */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, `no route for ${req.method} ${req.path}`));
};

/** Error pages for browsers; the API, feeds and webhooks keep JSON errors. */
export interface HtmlErrorPages {
  /** Whether an error on this request should be answered with an HTML page. */
  wantsHtml(req: Request): boolean;
  /** Sends an HTML error page. */
  sendError(
    req: Request,
    res: Response,
    status: number,
    message: string,
    headers: Record<string, string>,
  ): void;
}

/** Maps known errors to status codes; anything else is a logged 500 with no detail leaked. */
export function errorHandler(logger: Logger, htmlPages?: HtmlErrorPages): ErrorRequestHandler {
  return (caught: unknown, req, res, _next) => {
    let error = caught;
    if (!(error instanceof HttpError) && isTemporaryDatabaseFailure(error)) {
      logger.warn(
        { err: error, method: req.method, path: req.path },
        'http: database temporarily unavailable; answered 503',
      );
      error = new UnavailableError('temporarily unavailable; try again later');
    }
    let status = 500;
    let message = 'internal error';
    let headers: Record<string, string> = {};
    if (error instanceof HttpError) {
      status = error.status;
      message = error.message;
      headers = error.headers;
    } else if (
      typeof error === 'object' &&
      error !== null &&
      typeof (error as BodyParserError).type === 'string'
    ) {
      const known = BODY_ERRORS[(error as BodyParserError).type as string];
      if (known) [status, message] = known;
      else if ((error as BodyParserError).expose && (error as BodyParserError).status) {
        status = (error as BodyParserError).status as number;
        message = (error as Error).message;
      }
    } else if (
      typeof error === 'object' &&
      error !== null &&
      (error as BodyParserError).status === 400
    ) {
      status = 400;
      message = 'malformed request';
    }
    if (status >= 500 && !(error instanceof HttpError))
      logger.error({ err: error, method: req.method, path: req.path }, 'http: request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (htmlPages?.wantsHtml(req)) {
      try {
        htmlPages.sendError(req, res, status, message, headers);
        return;
      } catch (renderError) {
        logger.error({ err: renderError, path: req.path }, 'http: error page failed');
      }
    }
    res.status(status).set(headers).json({ error: message });
  };
}
