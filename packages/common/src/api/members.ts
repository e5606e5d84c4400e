import { z } from 'zod';
import { UsernameSchema } from './names.ts';
import { RoleSchema } from './roles.ts';

export const MemberSchema = z
  .object({
    username: z.string(),
    displayName: z.string(),
    role: RoleSchema,
    /** `image-group`: inherited from the repository's group (image repositories only). */
    source: z.enum(['direct', 'image-group']),
    since: z.iso.datetime(),
  })
  .meta({ id: 'Member' });
export type Member = z.infer<typeof MemberSchema>;

export const AddMemberSchema = z
  .strictObject({ username: UsernameSchema, role: RoleSchema })
  .meta({ id: 'AddMember' });
export type AddMember = z.infer<typeof AddMemberSchema>;

export const UpdateMemberSchema = z.strictObject({ role: RoleSchema }).meta({ id: 'UpdateMember' });
export type UpdateMember = z.infer<typeof UpdateMemberSchema>;
