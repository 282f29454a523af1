// The built-in templates exactly as the core ships them (crates/domain/data/templates), as the
// `TemplateInfo` the UI receives: the form tests draw the real forms, not hand-made look-alikes.
import type { TemplateInfo } from '../api';
import accountApplication from '../../../crates/domain/data/templates/account_application.json';
import businessTrip from '../../../crates/domain/data/templates/business_trip.json';
import leave from '../../../crates/domain/data/templates/leave.json';
import overtime from '../../../crates/domain/data/templates/overtime.json';
import processChange from '../../../crates/domain/data/templates/process_change.json';
import purchase from '../../../crates/domain/data/templates/purchase.json';
import reimbursement from '../../../crates/domain/data/templates/reimbursement.json';

interface ShippedTemplate {
  id: string;
  version: number;
  name: TemplateInfo['name'];
  description: TemplateInfo['description'];
  form: unknown;
}

function info(template: ShippedTemplate): TemplateInfo {
  return {
    id: template.id,
    version: template.version,
    name: template.name,
    description: template.description,
    // JSON imports type `kind` as any string; the core has checked these schemas.
    form: template.form as TemplateInfo['form'],
    retired: false,
  };
}

export const templates = {
  accountApplication: info(accountApplication),
  businessTrip: info(businessTrip),
  leave: info(leave),
  overtime: info(overtime),
  processChange: info(processChange),
  purchase: info(purchase),
  reimbursement: info(reimbursement),
};

export const allTemplates: TemplateInfo[] = Object.values(templates);
