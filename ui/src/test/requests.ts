// Sample requests, inbox pages, outbox entries and sync states for the tests of the lists and
// the request detail, and the two things jsdom lacks for them: a size for the virtualised
// list's scroller (jsdom lays nothing out) and the Tauri event bus.
import { vi } from 'vitest';
import type {
  DraftView,
  InboxEntry,
  InboxPage,
  InboxQuery,
  MyRequestEntry,
  MyRequestsPage,
  MyRequestsQuery,
  OutboxItem,
  RequestDetail,
  StepView,
  SyncStatus,
  TaskView,
  TemplateCount,
} from '../api';
import { ok } from './fixtures';

/**
 * Ages are counted from when this file loaded: a screen's "now" is always a little later,
 * so a request opened three hours before it has waited "3 h", never "2 h 59 min".
 */
const loadedAt = Date.now();
const hoursAgo = (hours: number) => new Date(loadedAt - hours * 3600 * 1000).toISOString();

export const sunHui = { id: '0190d4a0-0000-7000-8000-000000000002', name: '孙慧' };
export const wangWu = { id: '0190d4a0-0000-7000-8000-000000000003', name: '王五' };
export const zhaoLiu = { id: '0190d4a0-0000-7000-8000-000000000004', name: '赵六' };

const travel = { 'zh-CN': '差旅报销', en: 'Travel expenses' };
const leave = { 'zh-CN': '请假', en: 'Leave' };

/** A request id that sorts with its number, for finding rows by index. */
export function requestId(index: number): string {
  return `0190d4a0-1000-7000-8000-${String(index).padStart(12, '0')}`;
}

export function inboxEntry(index: number, overrides: Partial<InboxEntry> = {}): InboxEntry {
  return {
    request_id: requestId(index),
    task: 1,
    title: `Trip to Shanghai #${index}`,
    template_id: 'travel',
    template_name: travel,
    initiator: sunHui,
    figures: [{ field: 'total', label: { 'zh-CN': '合计', en: 'Total' }, text: 'CNY 4,800.00' }],
    opened_at: hoursAgo(3),
    due_at: null,
    sla: 'on_time',
    version: 3,
    ...overrides,
  };
}

export const inboxTemplates: TemplateCount[] = [
  { template_id: 'travel', name: travel, count: 7 },
  { template_id: 'leave', name: leave, count: 3 },
];

/**
 * An inbox of `total` requests answered page by page like the core does, each row made on
 * demand, so that a 100 000-row inbox costs only the pages asked for.
 */
export function answerInboxOf(total: number, templates: TemplateCount[] = inboxTemplates) {
  return (query: InboxQuery) => {
    const offset = query.offset ?? 0;
    const count = Math.max(0, Math.min(query.limit, total - offset));
    const items = Array.from({ length: count }, (_, i) => inboxEntry(offset + i));
    return Promise.resolve(ok<InboxPage>({ items, total, offset, templates }));
  };
}

export function myRequestEntry(index: number, overrides: Partial<MyRequestEntry> = {}): MyRequestEntry {
  return {
    id: requestId(index),
    title: `Laptop purchase #${index}`,
    template_id: 'purchase',
    template_name: { 'zh-CN': '采购申请', en: 'Purchase' },
    status: 'in_progress',
    current_step: { 'zh-CN': '部门经理审批', en: 'Manager approval' },
    waiting_on: [wangWu],
    figures: [{ field: 'amount', label: { 'zh-CN': '金额', en: 'Amount' }, text: 'CNY 9,999.00' }],
    updated_at: hoursAgo(1),
    ...overrides,
  };
}

export function answerMyRequestsOf(total: number) {
  return (query: MyRequestsQuery) => {
    const offset = query.offset ?? 0;
    const count = Math.max(0, Math.min(query.limit, total - offset));
    const items = Array.from({ length: count }, (_, i) => myRequestEntry(offset + i));
    return Promise.resolve(ok<MyRequestsPage>({ items, total, offset }));
  };
}

export function syncStatus(overrides: Partial<SyncStatus> = {}): SyncStatus {
  return {
    online: true,
    last_sync_at: hoursAgo(0.1),
    last_error: null,
    outbox_pending: 0,
    refused: [],
    recovery: null,
    ...overrides,
  };
}

export function outboxItem(overrides: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: '0190d4a0-2000-7000-8000-000000000001',
    request_id: requestId(1),
    task: 1,
    action: 'approve',
    state: 'pending',
    created_at: hoursAgo(0.05),
    attempts: 0,
    last_error: null,
    reason: null,
    ...overrides,
  };
}

export function task(overrides: Partial<TaskView> = {}): TaskView {
  return {
    task: 1,
    round: 1,
    assignee: wangWu,
    on_behalf_of: null,
    opened_at: '2026-11-30T01:00:00Z',
    due_at: null,
    closed_at: '2026-11-30T03:15:00Z',
    outcome: 'approved',
    closed_by: wangWu,
    elapsed_secs: 2 * 3600 + 15 * 60,
    working_secs: 3600 + 30 * 60,
    sla: 'on_time',
    ...overrides,
  };
}

export function step(overrides: Partial<StepView> = {}): StepView {
  return {
    step_id: 'manager',
    name: { 'zh-CN': '部门经理审批', en: 'Manager approval' },
    kind: 'approval',
    current: false,
    people: [wangWu],
    tasks: [task()],
    ...overrides,
  };
}

export function requestDetail(overrides: Partial<RequestDetail> = {}): RequestDetail {
  return {
    id: requestId(1),
    title: 'Trip to Shanghai',
    template_id: 'travel',
    template_version: 1,
    template: {
      id: 'travel',
      version: 1,
      name: travel,
      description: { 'zh-CN': '出差费用报销', en: 'Business trip expenses' },
      form: { fields: [{ key: 'purpose', label: { 'zh-CN': '事由', en: 'Purpose' }, type: { kind: 'text' } }] },
      retired: false,
    },
    status: 'in_progress',
    version: 3,
    initiator: sunHui,
    form: { purpose: 'Customer visit' },
    computed: {},
    figures: [{ field: 'total', label: { 'zh-CN': '合计', en: 'Total' }, text: 'CNY 4,800.00' }],
    steps: [
      step(),
      step({
        step_id: 'finance',
        name: { 'zh-CN': '财务审批', en: 'Finance approval' },
        current: true,
        people: [zhaoLiu],
        tasks: [
          task({
            task: 2,
            assignee: zhaoLiu,
            on_behalf_of: sunHui,
            opened_at: '2026-11-30T03:15:00Z',
            closed_at: null,
            outcome: null,
            closed_by: null,
            elapsed_secs: 26 * 3600,
            working_secs: null,
            sla: 'overdue',
          }),
        ],
      }),
      step({
        step_id: 'cc',
        name: { 'zh-CN': '抄送人事', en: 'Copy to HR' },
        kind: 'cc',
        people: [wangWu, zhaoLiu],
        tasks: [],
      }),
    ],
    events: [
      { at: '2026-11-30T01:00:00Z', actor: sunHui, kind: 'submitted', comment: '', other: null },
      {
        at: '2026-11-30T03:15:00Z',
        actor: wangWu,
        kind: 'approved',
        comment: 'Fine by me',
        other: null,
      },
    ],
    my_tasks: [2],
    mine_and_open: false,
    queued: [],
    refused: [],
    created_at: '2026-11-30T00:55:00Z',
    updated_at: '2026-11-30T03:15:00Z',
    submitted_at: '2026-11-30T01:00:00Z',
    finished_at: null,
    ...overrides,
  };
}

export function draftView(overrides: Partial<DraftView> = {}): DraftView {
  return {
    id: '0190d4a0-3000-7000-8000-000000000001',
    template_id: 'travel',
    template_version: 1,
    title: 'Trip to Beijing',
    form: {},
    computed: {},
    errors: [],
    template_retired: false,
    submitted_as: null,
    resubmits: null,
    updated_at: hoursAgo(0.2),
    ...overrides,
  };
}

/**
 * Gives the virtualised lists' scrollers a size: jsdom lays nothing out, so every element
 * measures 0 × 0 and the virtualiser would show no row at all. The virtualiser reads the
 * scroller's `clientHeight`/`clientWidth`, so those are what is faked, for the list only.
 */
export function sizeVirtualLists(height = 760, width = 800): () => void {
  const sized = (element: Element) => element.classList.contains('virtual-list');
  const spies = [
    vi.spyOn(Element.prototype, 'clientHeight', 'get').mockImplementation(function (
      this: Element,
    ) {
      return sized(this) ? height : 0;
    }),
    vi.spyOn(Element.prototype, 'clientWidth', 'get').mockImplementation(function (
      this: Element,
    ) {
      return sized(this) ? width : 0;
    }),
  ];
  return () => {
    for (const spy of spies) spy.mockRestore();
  };
}
