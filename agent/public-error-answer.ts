// What a trigger's caller, who may be anyone, gets for a function's error answer (a container's
// 502 or 504) in place of its body: an FDK's error message or a Lambda runtime's error JSON can
// carry a stack, a connection string, a secret from the function's config. Fn answers its own
// `function failed` and `Timed out` there; a Lambda function URL answers every function error,
// a timeout too, with 502 `Internal Server Error`. The call's record and log keep the detail,
// and /invoke and the Lambda APIs, which a token guards, still pass the function's own answer.

export interface PublicErrorAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

const fnAnswer = (status: number, message: string): PublicErrorAnswer => ({
  status, contentType: 'application/json', body: Buffer.from(JSON.stringify({ message })),
});

const FN_FAILED = fnAnswer(502, 'function failed');
const FN_TIMED_OUT = fnAnswer(504, 'Timed out');
const FUNCTION_URL_ERROR: PublicErrorAnswer = { status: 502, contentType: 'text/plain; charset=utf-8', body: Buffer.from('Internal Server Error') };

/** `status`: the container's, 502 or 504; `lambda`: the fn is Lambda-format (its trigger a function URL). */
export function publicErrorAnswer(status: number, lambda: boolean): PublicErrorAnswer {
  if (lambda) return FUNCTION_URL_ERROR;
  return status === 504 ? FN_TIMED_OUT : FN_FAILED;
}
