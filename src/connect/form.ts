import { z } from 'zod';
import { AppError } from '../errors.js';
import type { AnyProviderDefinition, ConnectField } from '../providers/definition.js';

/**
 * What the connect page posts: the admin's form, field by field (the snake_case names of the
 * provider's connect-form fields, so an error can be shown beside the field it concerns). It
 * becomes the provider's credentials through the definition's credentialsFromForm, the same
 * credentials schema syncs use.
 */

/** The route's own bound: any provider's form is a flat map of short names to bounded strings. */
export const connectFormBodySchema = z.record(z.string().max(100), z.string().max(20_000));
export type ConnectFormBody = z.infer<typeof connectFormBodySchema>;

function fieldSchema(field: ConnectField): z.ZodType<string | undefined> {
  const values = field.options?.map((option) => option.value) ?? [];
  const base =
    field.kind === 'choice' && values.length > 0
      ? z.enum(values as [string, ...string[]])
      : // Secrets and PEM blocks are taken as typed; everything else loses stray spaces.
        field.secret || field.kind === 'pem'
        ? z.string().max(field.maxLength)
        : z.string().trim().max(field.maxLength);
  // A field shown only for one choice may be absent; so may an optional one.
  return field.required === false || field.when ? base.optional() : base;
}

/** The provider's form as a strict zod schema: unknown fields are refused by name. */
function formSchema(definition: AnyProviderDefinition) {
  return z
    .object(
      Object.fromEntries(definition.connectForm.fields.map((field) => [field.name, fieldSchema(field)])),
    )
    .strict();
}

/** The posted form -> the provider's credentials, or a 400 naming every field that needs attention. */
export function credentialsFromForm(definition: AnyProviderDefinition, body: ConnectFormBody): unknown {
  const shape = formSchema(definition).safeParse(body);
  if (!shape.success) {
    const details = shape.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ field: key, message: 'is not a field of this form' }))
        : [{ field: issue.path.join('.'), message: issue.message }],
    );
    throw new AppError('invalid_request_body', 'Some fields need attention.', details);
  }
  const result = definition.credentialsFromForm(shape.data as Record<string, string | undefined>);
  if (!result.ok) {
    throw new AppError(
      'invalid_request_body',
      'Some fields need attention.',
      result.errors.map((error) => ({ field: error.field, message: error.message })),
    );
  }
  return result.credentials;
}
