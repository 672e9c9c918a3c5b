/**
 * A page object over playwright's Page for VS Code's workbench (code-server 4.139 = VS Code 1.139),
 * driven the way a user drives it: command palette, quick picks, input boxes, the Explorer's
 * context menu, tree views with context menus and inline actions, notifications, the status bar.
 * Every step waits for a condition in the DOM, never for a fixed time. All selectors live in
 * `sel` below; when a VS Code update moves something, that is the one place to change.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { artifactsDir } from './codeServer';

/** How long a step may wait for the workbench (the machine is small and shared). */
export const STEP_TIMEOUT = 30_000;

/** Selectors of VS Code's workbench DOM, each with what it targets. */
export const sel = {
  /** The workbench root; present once the web client has booted. */
  workbench: '.monaco-workbench',
  /** The status bar part; its presence means the layout is up. */
  statusBar: '#workbench\\.parts\\.statusbar',
  /** One status bar entry: div.statusbar-item#<entry id>[aria-label], text in a.statusbar-item-label (codicons are empty spans). */
  statusBarItem: '#workbench\\.parts\\.statusbar .statusbar-item',
  statusBarItemLabel: '.statusbar-item-label',
  /** The Explorer's file tree (a monaco-list with role=tree); rows are .monaco-list-row. */
  explorerTree: '.explorer-folders-view .monaco-list',
  explorerRow: '.explorer-folders-view .monaco-list-row',
  /** A row's file/label name inside a tree or list row: a.label-name (text of highlighted spans). */
  labelName: '.label-name',
  /** Activity bar tabs: li.action-item[role=tab][aria-selected], title in a.action-label[aria-label] ("Explorer (Ctrl+Shift+E)"). */
  activityTab: '.part.activitybar li.action-item[role="tab"]',
  activityTabLabel: 'a.action-label',
  /** The side bar's container title bar (view actions move here when a container shows a single view). */
  sideBarTitle: '.part.sidebar .composite.title',
  /** A view's section in the side bar: div.pane > div.pane-header[aria-label="<View> Section…"] + div.pane-body. */
  pane: '.part.sidebar .pane',
  paneHeader: '.pane-header',
  paneTitle: 'h3.title',
  /**
   * Rows of a view's tree: .monaco-list-row[role=treeitem][aria-expanded] with .monaco-tl-twistie,
   * a.label-name, span.label-description and .actions (inline actions, shown on hover).
   */
  treeRow: '.monaco-list-row',
  labelDescription: '.label-description',
  twistie: '.monaco-tl-twistie',
  /** Inline/toolbar actions: a.action-label[aria-label=<command title>] inside an .actions toolbar. */
  actionLabel: '.actions a.action-label',
  /** A view container's title-bar actions (view/title menu when the container shows one view). */
  titleActionLabel: '.title-actions a.action-label',
  /**
   * Context menus: .context-view .monaco-menu > li.action-item > a.action-menu-item > span.action-label
   * (+ span.keybinding). Some VS Code builds draw them in a shadow root; playwright's CSS pierces open ones.
   */
  contextMenu: '.context-view .monaco-menu',
  contextMenuItem: '.context-view .monaco-menu li.action-item:not(.disabled) a.action-menu-item .action-label',
  /** One enabled menu entry (li gets class "focused" on hover or arrow keys) and its label. */
  contextMenuItemRow: '.context-view .monaco-menu li.action-item:not(.disabled)',
  contextMenuItemLabel: 'a.action-menu-item .action-label',
  /** The quick input widget (command palette, quick picks, input boxes). */
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickInputTitle: '.quick-input-widget .quick-input-title',
  /** Prompt or validation message under an input box; a prompt ends with " (Press 'Enter' to confirm or 'Escape' to cancel)". */
  quickInputMessage: '.quick-input-widget .quick-input-message',
  /** Quick pick rows: .monaco-list-row[role=option][aria-label], label in .label-name. */
  quickInputRow: '.quick-input-widget .quick-input-list .monaco-list-row',
  /** A multi-select quick pick row's checkbox: div.monaco-checkbox[role=checkbox][aria-checked]; the row carries aria-checked too. */
  quickInputCheckbox: '.monaco-checkbox',
  /**
   * Notification toasts (bottom right) and the notification center; one .notification-list-item each,
   * message in .notification-list-item-message > span, buttons are a.monaco-button.
   */
  notification: '.notifications-toasts .notification-list-item, .notifications-center .notification-list-item',
  notificationMessage: '.notification-list-item-message',
  notificationButton: '.notification-list-item-buttons-container .monaco-button',
  /** The active editor's text: Monaco renders visible lines as absolutely positioned div.view-line. */
  activeEditor: '.part.editor .editor-group-container.active .editor-instance .monaco-editor',
  activeEditorLines: '.part.editor .editor-group-container.active .editor-instance .monaco-editor .view-lines .view-line',
  /** The active group's active tab: .tab.active[aria-label], class "dirty" while it has unsaved changes. */
  activeTab: '.part.editor .editor-group-container.active .tabs-container .tab.active',
  /** A dialog (e.g. "Do you want to save the changes…?"): .monaco-dialog-box with its message. */
  dialog: '.monaco-dialog-box',
  /** A tree row's icon (ThemeIcon): .custom-view-tree-node-item-icon.codicon-<id>, its colour inline. */
  treeRowIcon: '.custom-view-tree-node-item-icon',
  /** The part of a row holding label and description, cut off with an ellipsis when too narrow. */
  treeRowLabelContainer: '.monaco-icon-label-container',
  // The active diff editor's two sides (vscode.diff): <div class="monaco-diff-editor"> holding
  // <div class="editor original"> and <div class="editor modified">, each a Monaco editor.
  diffOriginalLines: '.part.editor .editor-group-container.active .monaco-diff-editor .editor.original .view-lines .view-line',
  diffModifiedLines: '.part.editor .editor-group-container.active .monaco-diff-editor .editor.modified .view-lines .view-line',
  // The active editor tab's label.
  activeTabLabel: '.part.editor .editor-group-container.active .tabs-container .tab.active .label-name',
} as const;

/** Chromium flags for this offline machine (see shared/recipes/vscode-e2e.md). */
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Debian's headless Chromium (scripts/e2e-setup.mjs installs it). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A string matches exactly (whole text, trimmed); a RegExp matches anywhere. */
function exact(text: string | RegExp): RegExp {
  return typeof text === 'string' ? new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`) : text;
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'step';
}

let matchCounter = 0;

export class Workbench {
  private testName = 'default';
  private shot = 0;

  constructor(
    readonly page: Page,
    /** The code-server base URL, http://127.0.0.1:PORT. */
    readonly baseUrl: string,
  ) {
    page.setDefaultTimeout(STEP_TIMEOUT);
  }

  // ---- artifacts ------------------------------------------------------------------------------

  /** Screenshots from now on go to test-artifacts/e2e/<name>/ (emptied), numbered from 01. */
  useTest(name: string): void {
    this.testName = fileSafe(name);
    this.shot = 0;
    rmSync(this.testDir(), { recursive: true, force: true });
  }

  testDir(): string {
    return path.join(artifactsDir, this.testName);
  }

  /** Saves test-artifacts/e2e/<test>/<NN>-<step>.png and returns its path. */
  async screenshot(step: string): Promise<string> {
    mkdirSync(this.testDir(), { recursive: true });
    const file = path.join(this.testDir(), `${String(++this.shot).padStart(2, '0')}-${fileSafe(step)}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Runs one test's steps: screenshots go to the test's folder, and if a step fails a
   * "failure" screenshot is taken before the error is rethrown.
   */
  async run(name: string, steps: () => Promise<void>): Promise<void> {
    this.useTest(name);
    try {
      await steps();
    } catch (err) {
      await this.screenshot('failure').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Waits until an element matching `itemSelector` (inside `within`, if given) is visible and its
   * text matches `re`, and returns a locator pinned to that element. The text is the texts of
   * `textSelectors` inside it joined by a space (the element's own text when none), with runs of
   * whitespace collapsed and trimmed, so anchors in `re` work as they read.
   */
  private async findByText(itemSelector: string, textSelectors: string[], re: RegExp, timeout: number, within?: Locator): Promise<Locator | undefined> {
    const token = `m${++matchCounter}`;
    const args = { itemSelector, textSelectors, source: re.source, flags: re.flags, token };
    const root = within ? await within.elementHandle({ timeout }) : null;
    try {
      await this.page.waitForFunction(
        ({ root, a }) => {
          const rx = new RegExp(a.source, a.flags);
          for (const el of Array.from((root ?? document).querySelectorAll(a.itemSelector))) {
            if (!(el instanceof HTMLElement) || el.getClientRects().length === 0) continue;
            const parts = a.textSelectors.length ? a.textSelectors.map((q) => el.querySelector(q)?.textContent ?? '') : [el.textContent ?? ''];
            if (rx.test(parts.join(' ').replace(/\s+/g, ' ').trim())) {
              el.setAttribute('data-e2e-match', a.token);
              return true;
            }
          }
          return false;
        },
        { root, a: args },
        { timeout },
      );
    } catch {
      return undefined;
    } finally {
      await root?.dispose();
    }
    return this.page.locator(`[data-e2e-match="${token}"]`);
  }

  // ---- workbench ------------------------------------------------------------------------------

  /** Opens a folder (a path on the code-server machine) and waits until the workbench and Explorer are up. */
  async openFolder(folder: string): Promise<void> {
    // The workbench's scripts take more than a step's 30 s to load on a machine busy with other work.
    await this.page.goto(`${this.baseUrl}/?folder=${encodeURIComponent(folder)}`, { timeout: 120_000 });
    await this.waitReady();
  }

  /**
   * Waits for the workbench layout, the Explorer's tree and, if it shows, the end of "Activating
   * Extensions...". An extension's menus appear only once the extension host has loaded it: wait
   * for something of the extension itself too (startVsCode's `ready`).
   */
  async waitReady(timeout = 90_000): Promise<void> {
    await this.page.locator(sel.statusBar).waitFor({ state: 'visible', timeout });
    await this.page.locator(sel.explorerTree).first().waitFor({ state: 'attached', timeout });
    // "Activating Extensions..." is a status bar entry while extensions start.
    await this.page.locator(sel.statusBarItem, { hasText: 'Activating Extensions' }).waitFor({ state: 'detached', timeout });
  }

  /** Presses Escape until no quick input or context menu is open. */
  async dismiss(): Promise<void> {
    const menu = this.page.locator(sel.contextMenu);
    const quick = this.page.locator(sel.quickInput);
    for (let i = 0; i <= 3; i++) {
      const open = (await quick.isVisible()) || (await menu.first().isVisible());
      if (!open) return;
      if (i === 3) break;
      await this.page.keyboard.press('Escape');
      await Promise.all([menu.first().waitFor({ state: 'hidden', timeout: 2000 }), quick.waitFor({ state: 'hidden', timeout: 2000 })]).catch(() => undefined);
    }
    throw new Error('a quick input or context menu does not close on Escape');
  }

  // ---- command palette, quick picks, input boxes ---------------------------------------------

  private quickRow(label: string | RegExp): Locator {
    return this.page.locator(sel.quickInputRow).filter({ has: this.page.locator(sel.labelName, { hasText: exact(label) }) });
  }

  /** Runs a command by its title as the palette shows it ("Category: Title"). */
  async runCommand(title: string): Promise<void> {
    await this.dismiss();
    await this.page.keyboard.press('F1');
    const box = this.page.locator(sel.quickInputBox);
    await box.waitFor({ state: 'visible' });
    await box.fill(`>${title}`);
    // The palette's row goes away once the command has been picked (a quick pick it opens replaces the list).
    await this.clickQuickRow(this.quickRow(title).first());
  }

  /**
   * Clicks a quick pick row and waits until the pick has taken it (the row goes away). Under load a
   * click can land while the list is being drawn and be lost, leaving the row up and focused (seen
   * in CI-like runs): when after a few seconds the same pick still shows the same rows, Enter takes
   * the row if it is the focused one (Enter accepts the focused row, never another), else it is
   * clicked again. A pick that changed (the next one opened) is never clicked twice.
   */
  private async clickQuickRow(row: Locator): Promise<void> {
    const before = await this.quickInputText();
    await row.click();
    if (await row.waitFor({ state: 'hidden', timeout: 5_000 }).then(() => true, () => false)) return;
    if ((await this.quickInputText()) === before) {
      const focused = await row.evaluate((e) => e.classList.contains('focused')).catch(() => false);
      if (focused) await this.page.locator(sel.quickInputBox).press('Enter');
      else await row.click();
    }
    await row.waitFor({ state: 'hidden' });
  }

  /** The open quick input's whole text (title, box, rows), to tell whether it changed. */
  private async quickInputText(): Promise<string> {
    const widget = this.page.locator(sel.quickInput);
    const box = await this.page.locator(sel.quickInputBox).inputValue().catch(() => '');
    return `${box}\n${await widget.innerText().catch(() => '')}`;
  }

  /** The labels of the quick pick's visible items. */
  async quickPickItems(): Promise<string[]> {
    await this.page.locator(sel.quickInputRow).first().waitFor({ state: 'visible' });
    return (await this.page.locator(`${sel.quickInputRow} ${sel.labelName}`).allTextContents()).map((t) => t.trim());
  }

  /** Each visible quick pick row as "label description detail" (whitespace collapsed), top to bottom. */
  async quickPickRows(): Promise<string[]> {
    await this.page.locator(sel.quickInputRow).first().waitFor({ state: 'visible' });
    return this.page.evaluate((q) => {
      const rows = Array.from(document.querySelectorAll<HTMLElement>(q.row)).sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
      // The detail is a second icon label in the row: its .label-name follows the description.
      // (No named function in here: tsx would wrap it in a helper the page does not have.)
      return rows.map((r) =>
        Array.from(r.querySelectorAll(q.parts))
          .map((e) => (e.textContent ?? '').trim())
          .filter(Boolean)
          .join(' ')
          .replace(/\s+/g, ' '),
      );
    }, { row: sel.quickInputRow, parts: `${sel.labelName}, ${sel.labelDescription}` });
  }

  /**
   * Picks a quick pick item by its label (exact for a string). With `filter` (the default) the
   * label is typed first, as a user would in a long list.
   */
  async pickQuickItem(label: string | RegExp, options: { filter?: boolean } = {}): Promise<void> {
    const box = this.page.locator(sel.quickInputBox);
    await box.waitFor({ state: 'visible' });
    if ((options.filter ?? true) && typeof label === 'string') await box.fill(label);
    const row = this.quickRow(label).first();
    // The pointer may rest on the row picked before, whose hover (a long description's tooltip)
    // would cover this one and take the click: move it out of the list first.
    await this.page.mouse.move(0, 0);
    await this.clickQuickRow(row);
  }

  /**
   * Checks items of a multi-select quick pick (canSelectMany) by their labels, each typed first
   * as a filter, then accepts the checked ones with Enter.
   */
  async checkQuickItems(labels: readonly string[]): Promise<void> {
    const box = this.page.locator(sel.quickInputBox);
    await box.waitFor({ state: 'visible' });
    for (const label of labels) {
      await box.fill(label);
      const row = this.quickRow(label).first();
      await this.page.mouse.move(0, 0);
      await row.locator(sel.quickInputCheckbox).click();
      await this.page.locator(`${sel.quickInputRow}[aria-checked="true"]`, { has: this.page.locator(sel.labelName, { hasText: exact(label) }) }).first().waitFor();
    }
    await box.press('Enter');
    await this.quickRow(labels[0]!).first().waitFor({ state: 'hidden' });
  }

  /**
   * Answers an input box: types `text` and presses Enter. Returns whether it was a password box
   * and the prompt it showed. With `expectPassword` set, fails unless the box masks its input.
   * With `title`, waits for a box with that title first: one input box following another reuses
   * the widget, so "visible" alone can still be the previous box on its way out.
   */
  async fillInputBox(text: string, options: { expectPassword?: boolean; title?: RegExp } = {}): Promise<{ password: boolean; prompt: string; title: string }> {
    const box = this.page.locator(sel.quickInputBox);
    await box.waitFor({ state: 'visible' });
    if (options.title) await this.waitQuickInputTitle(options.title);
    const password = (await box.getAttribute('type')) === 'password';
    if (options.expectPassword !== undefined && options.expectPassword !== password) {
      throw new Error(`expected ${options.expectPassword ? 'a password' : 'a plain'} input box, got ${password ? 'a password' : 'a plain'} one`);
    }
    const prompt = await this.quickInputMessage();
    const title = (await this.page.locator(sel.quickInputTitle).isVisible()) ? ((await this.page.locator(sel.quickInputTitle).textContent()) ?? '').trim() : '';
    await box.fill(text);
    await box.press('Enter');
    return { password, prompt, title };
  }

  /**
   * Answers VS Code's simple file dialog (code-server's save and open dialogs: a quick input
   * holding a path, titled `title`) with `file`, and accepts it. The dialog fills in its default
   * path and takes a typed one in asynchronously, then lists the typed path's folder: a value
   * typed while it starts can be overwritten, and Enter before the listing can accept the value
   * it had (both seen: the dialog closed and nothing was saved). So Enter waits until the box holds
   * `file` and a subfolder of its folder shows in the list; the path is typed again (at most
   * twice more) only when the dialog shows it did not take it.
   */
  async fillFileDialog(file: string, title: RegExp): Promise<void> {
    await this.waitQuickInputTitle(title);
    const box = this.page.locator(sel.quickInputBox);
    const folder = readdirSync(path.dirname(file), { withFileTypes: true }).find((e) => e.isDirectory());
    for (let attempt = 1; ; attempt++) {
      await box.fill(file);
      const listed = folder ? await this.quickRow(folder.name).first().waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false) : true;
      const value = await box.inputValue();
      if (listed && value === file) break;
      if (attempt === 3) throw new Error(`the file dialog did not take ${file} (it holds "${value}")`);
    }
    await box.press('Enter');
  }

  /** Waits until the open quick input's title matches `pattern`. */
  async waitQuickInputTitle(pattern: RegExp, timeout = 30_000): Promise<void> {
    const title = this.page.locator(sel.quickInputTitle);
    const deadline = Date.now() + timeout;
    for (;;) {
      const text = (await title.isVisible()) ? ((await title.textContent()) ?? '').trim() : '';
      if (pattern.test(text)) return;
      if (Date.now() > deadline) throw new Error(`no input box titled ${pattern} appeared (the title is "${text}")`);
      await this.page.waitForTimeout(200);
    }
  }

  /** Waits until the quick input is closed (an accepted input box, a picked item). */
  async waitQuickInputClosed(): Promise<void> {
    await this.page.locator(sel.quickInput).waitFor({ state: 'hidden' });
  }

  /** The quick input's message (prompt or validation error), while it is open. */
  async quickInputMessage(): Promise<string> {
    const text = (await this.page.locator(sel.quickInputMessage).textContent()) ?? '';
    return text.replace(/\s*\(Press 'Enter' to confirm or 'Escape' to cancel\)\s*$/, '').trim();
  }

  // ---- context menus --------------------------------------------------------------------------

  /** The enabled items of the open context menu. */
  async contextMenuItems(): Promise<string[]> {
    await this.page.locator(sel.contextMenu).first().waitFor({ state: 'visible' });
    return (await this.page.locator(sel.contextMenuItem).allTextContents()).map((t) => t.trim()).filter(Boolean);
  }

  /** Clicks an item of the open context menu by its exact label. */
  async pickContextMenuItem(action: string): Promise<void> {
    const item = this.page.locator(sel.contextMenuItemRow).filter({ has: this.page.locator(sel.contextMenuItemLabel, { hasText: exact(action) }) }).first();
    // Hover focuses the item, Enter runs it. (A synthetic click on a freshly opened menu is
    // sometimes highlighted but not run by VS Code; the keyboard path always is.)
    await item.hover();
    await this.page.locator(`${sel.contextMenuItemRow}.focused`).filter({ has: this.page.locator(sel.contextMenuItemLabel, { hasText: exact(action) }) }).waitFor();
    await this.page.keyboard.press('Enter');
    await this.page.locator(sel.contextMenu).first().waitFor({ state: 'hidden' });
  }

  // ---- Explorer -------------------------------------------------------------------------------

  /** The Explorer row of a file or folder by its name (as shown). */
  explorerRow(name: string): Locator {
    return this.page.locator(sel.explorerRow).filter({ has: this.page.locator(sel.labelName, { hasText: exact(name) }) }).first();
  }

  /** Right-clicks an Explorer row and chooses a context-menu action. */
  async explorerContextAction(name: string, action: string): Promise<void> {
    await this.openViewContainer('Explorer');
    await this.dismiss();
    await this.explorerRow(name).click({ button: 'right' });
    await this.pickContextMenuItem(action);
  }

  /** Waits until an Explorer row's context menu has `action`: VS Code adds an extension's items once its host has scanned it, a little after the workbench is up. */
  async waitForExplorerAction(name: string, action: string, timeout = 60_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!(await this.explorerContextMenuItems(name)).includes(action)) {
      if (Date.now() > deadline) throw new Error(`"${action}" never appeared in the Explorer context menu`);
      await this.page.waitForTimeout(1000);
    }
  }

  /** Right-clicks an Explorer row and returns its context menu's items (the menu is closed again). */
  async explorerContextMenuItems(name: string): Promise<string[]> {
    await this.openViewContainer('Explorer');
    await this.dismiss();
    await this.explorerRow(name).click({ button: 'right' });
    const items = await this.contextMenuItems();
    await this.dismiss();
    return items;
  }

  // ---- view containers and tree views ---------------------------------------------------------

  /** An activity bar tab by its title; the label reads "Explorer (Ctrl+Shift+E)" when it has a keybinding. */
  private activityTab(title: string, selected = false): Locator {
    const tab = selected ? `${sel.activityTab}[aria-selected="true"]` : sel.activityTab;
    const t = title.replace(/"/g, '\\"');
    return this.page.locator(tab).filter({ has: this.page.locator(`${sel.activityTabLabel}[aria-label="${t}"], ${sel.activityTabLabel}[aria-label^="${t} ("]`) }).first();
  }

  /** Shows a view container from the activity bar by its title ("Explorer", "Fixture Archives"); no-op when shown. */
  async openViewContainer(title: string): Promise<void> {
    const tab = this.activityTab(title);
    // Clicking the tab of the container already shown would hide the side bar.
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    await this.activityTab(title, true).waitFor();
  }

  /** A view's section in the side bar, by the view's name ("Archives"); expanded if it was collapsed. */
  async view(name: string): Promise<Locator> {
    const pane = this.page.locator(sel.pane).filter({ has: this.page.locator(`${sel.paneHeader} ${sel.paneTitle}`, { hasText: exact(name) }) }).first();
    await pane.waitFor({ state: 'attached' });
    const header = pane.locator(sel.paneHeader).first();
    if ((await header.isVisible()) && (await header.getAttribute('aria-expanded')) === 'false') {
      await header.click();
      await pane.locator(`${sel.paneHeader}[aria-expanded="true"]`).waitFor();
    }
    return pane;
  }

  /** A tree row in a view: a string matches the row's label exactly, a RegExp "<label> <description>". */
  async treeRow(viewName: string, text: string | RegExp): Promise<Locator> {
    const pane = await this.view(viewName);
    const rows = pane.locator(sel.treeRow);
    if (typeof text === 'string') {
      const row = rows.filter({ has: this.page.locator(sel.labelName, { hasText: exact(text) }) }).first();
      await row.waitFor({ state: 'visible' });
      return row;
    }
    const row = await this.findByText(sel.treeRow, [sel.labelName, sel.labelDescription], text, STEP_TIMEOUT, pane);
    if (!row) throw new Error(`no row matching ${text} in view ${viewName}; rows: ${JSON.stringify(await this.treeLabels(viewName))}`);
    return row;
  }

  /** The labels of a view's visible tree rows, top to bottom. */
  async treeLabels(viewName: string): Promise<string[]> {
    const pane = await this.view(viewName);
    await pane.locator(sel.treeRow).first().waitFor({ state: 'visible' });
    return pane.evaluate((el, q) => {
      const rows = Array.from(el.querySelectorAll<HTMLElement>(q.row)).sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
      return rows.map((r) => (r.querySelector(q.label)?.textContent ?? '').trim());
    }, { row: sel.treeRow, label: sel.labelName });
  }

  /**
   * Expands a collapsed tree row (clicks its twistie) and waits until its first child row is shown:
   * an async tree marks the row expanded before getChildren() has answered and the rows are drawn,
   * and redraws replace row elements, so the row is looked up afresh on every try.
   */
  async expandTreeRow(viewName: string, text: string | RegExp): Promise<void> {
    const deadline = Date.now() + STEP_TIMEOUT;
    let clicked = 0;
    for (;;) {
      const row = await this.treeRow(viewName, text);
      const state = await row.evaluate((el) => {
        const top = parseFloat((el as HTMLElement).style.top);
        const below = Array.from(el.parentElement?.children ?? [])
          .filter((r) => parseFloat((r as HTMLElement).style.top) > top)
          .sort((a, b) => parseFloat((a as HTMLElement).style.top) - parseFloat((b as HTMLElement).style.top))[0];
        return { expanded: el.getAttribute('aria-expanded'), level: Number(el.getAttribute('aria-level')), next: below ? Number(below.getAttribute('aria-level')) : 0 };
      }).catch(() => undefined);
      if (state?.expanded === 'true' && state.next > state.level) return;
      // A refresh can collapse the row again: click once more if it stays collapsed.
      if (state?.expanded === 'false' && Date.now() - clicked > 2_000) {
        await row.locator(sel.twistie).click();
        clicked = Date.now();
      }
      if (Date.now() > deadline) throw new Error(`tree row ${text} in ${viewName} did not show its children: ${JSON.stringify(state)}`);
      await this.page.waitForTimeout(100);
    }
  }

  /**
   * What a person sees of a tree row: the icon (codicon id, and which of `colors`, theme colour
   * ids, it is drawn in: VS Code sets the resolved colour inline) and the text of label and
   * description that is actually drawn within the row, not cut off by the view's width.
   */
  async treeRowLook(viewName: string, text: string | RegExp, colors: string[] = []): Promise<{ icon: string; color: string; colors: string[]; visibleText: string; selected: boolean }> {
    const row = await this.treeRow(viewName, text);
    // No named functions inside: the test's compiler would wrap them in a helper the page lacks.
    return row.evaluate((el, q) => {
      const icon = el.querySelector<HTMLElement>(q.icon);
      const container = el.querySelector<HTMLElement>(q.container)!;
      const right = Math.min(container.getBoundingClientRect().right, el.getBoundingClientRect().right);
      let visible = '';
      for (const part of [q.label, q.description]) {
        const node = el.querySelector(part);
        if (!node) continue;
        const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
        for (let t = walker.nextNode(); t; t = walker.nextNode()) {
          for (let i = 0; i < (t.textContent ?? '').length; i++) {
            const range = document.createRange();
            range.setStart(t, i);
            range.setEnd(t, i + 1);
            if (range.getBoundingClientRect().right <= right + 0.5) visible += t.textContent![i];
          }
        }
        visible += ' ';
      }
      return {
        icon: (icon?.className.match(/codicon-([\w-]+)/) ?? [])[1] ?? '',
        color: icon?.style.color ?? '',
        colors: ((): string[] => {
          if (!icon?.style.color) return [];
          const probe = document.createElement('span');
          el.appendChild(probe);
          const [own, ...theirs] = [icon.style.color, ...q.colors.map((c) => `var(--vscode-${c.replace(/\./g, '-')})`)].map((css) => {
            probe.style.color = css;
            return getComputedStyle(probe).color;
          });
          probe.remove();
          return q.colors.filter((_, i) => theirs[i] === own);
        })(),
        visibleText: visible.replace(/\s+/g, ' ').trim(),
        selected: el.classList.contains('selected'),
      };
    }, { icon: sel.treeRowIcon, container: sel.treeRowLabelContainer, label: sel.labelName, description: sel.labelDescription, colors });
  }

  /** Right-clicks a tree row and chooses a context-menu action. */
  async treeContextAction(viewName: string, text: string | RegExp, action: string): Promise<void> {
    await this.dismiss();
    await (await this.treeRow(viewName, text)).click({ button: 'right' });
    await this.pickContextMenuItem(action);
  }

  /** Right-clicks a tree row and returns its context menu's items (the menu is closed again). */
  async treeContextMenuItems(viewName: string, text: string | RegExp): Promise<string[]> {
    await this.dismiss();
    await (await this.treeRow(viewName, text)).click({ button: 'right' });
    const items = await this.contextMenuItems();
    await this.dismiss();
    return items;
  }

  /** The titles of a tree row's inline actions (shown while hovered). */
  async treeInlineActions(viewName: string, text: string | RegExp): Promise<string[]> {
    const row = await this.treeRow(viewName, text);
    await row.hover();
    return row.locator(sel.actionLabel).evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  }

  /** Hovers a tree row and clicks its inline action by the command's title. */
  async treeInlineAction(viewName: string, text: string | RegExp, action: string): Promise<void> {
    const row = await this.treeRow(viewName, text);
    await row.hover();
    await row.locator(`${sel.actionLabel}[aria-label^="${action.replace(/"/g, '\\"')}"]`).first().click();
  }

  /** Clicks an action in a view's title bar (view/title menu, e.g. "Add Archive"). */
  async viewTitleAction(viewName: string, action: string): Promise<void> {
    const pane = await this.view(viewName);
    const a = action.replace(/"/g, '\\"');
    const selector = `${sel.actionLabel}[aria-label="${a}"], ${sel.actionLabel}[aria-label^="${a} ("]`;
    // With one view in a container, VS Code hides the pane header and shows its actions in the container's title.
    const header = pane.locator(sel.paneHeader).first();
    const inHeader = (await header.isVisible()) ? header.locator(selector) : null;
    if (inHeader && (await inHeader.count())) {
      await header.hover();
      await inHeader.first().click();
    } else {
      const title = this.page.locator(sel.sideBarTitle);
      await title.hover();
      await title.locator(`${sel.titleActionLabel}[aria-label="${a}"], ${sel.titleActionLabel}[aria-label^="${a} ("]`).first().click();
    }
  }

  // ---- notifications --------------------------------------------------------------------------

  /**
   * Waits for a notification whose message matches `text`, optionally clicks one of its buttons
   * (by exact label), and returns the message. Looks at the toasts, then the notification center
   * (a toast without buttons hides itself after a while).
   */
  async waitForNotification(text: RegExp, options: { button?: string; timeout?: number } = {}): Promise<string> {
    const timeout = options.timeout ?? STEP_TIMEOUT;
    let item = await this.findByText(sel.notification, [sel.notificationMessage], text, timeout);
    if (!item) {
      await this.runCommand('Notifications: Show Notifications');
      item = await this.findByText(sel.notification, [sel.notificationMessage], text, 2000);
      if (!item) throw new Error(`no notification matching ${text} within ${timeout} ms; notifications: ${JSON.stringify(await this.notifications())}`);
    }
    const message = ((await item.locator(sel.notificationMessage).textContent()) ?? '').replace(/\s+/g, ' ').trim();
    if (options.button) await item.locator(sel.notificationButton, { hasText: exact(options.button) }).first().click();
    return message;
  }

  /** The messages of the notifications on screen. */
  async notifications(): Promise<string[]> {
    return (await this.page.locator(`${sel.notification} ${sel.notificationMessage}`).allTextContents()).map((t) => t.trim());
  }

  /** Clears all notifications (so a later wait cannot match an old one). */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.page.locator(sel.notification).first().waitFor({ state: 'detached' });
  }

  // ---- status bar -----------------------------------------------------------------------------

  /** The texts of all status bar items (codicons are not text). */
  async statusBarTexts(): Promise<string[]> {
    return (await this.page.locator(`${sel.statusBarItem} ${sel.statusBarItemLabel}`).allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
  }

  /** Waits until a status bar item's text matches and returns that text. */
  async waitForStatusBarItem(text: RegExp, timeout = STEP_TIMEOUT): Promise<string> {
    const item = await this.statusBarItem(text, timeout);
    return ((await item.locator(sel.statusBarItemLabel).textContent()) ?? '').replace(/\s+/g, ' ').trim();
  }

  /** The status bar item whose text (trimmed, codicons left out) matches, once there is one. */
  async statusBarItem(text: RegExp, timeout = STEP_TIMEOUT): Promise<Locator> {
    const item = await this.findByText(sel.statusBarItem, [sel.statusBarItemLabel], text, timeout);
    if (!item) throw new Error(`no status bar item matching ${text} within ${timeout} ms; items: ${JSON.stringify(await this.statusBarTexts())}`);
    return item;
  }

  /** Clicks the status bar item whose text matches. */
  async clickStatusBarItem(text: RegExp): Promise<void> {
    await (await this.statusBarItem(text)).locator(sel.statusBarItemLabel).click();
  }

  // ---- editors --------------------------------------------------------------------------------

  /** The active editor tab: its title and whether it shows the unsaved-changes marker. */
  async activeTab(): Promise<{ title: string; dirty: boolean }> {
    const tab = this.page.locator(sel.activeTab).first();
    await tab.waitFor({ state: 'visible' });
    return tab.evaluate((el) => ({ title: el.getAttribute('aria-label') ?? '', dirty: el.classList.contains('dirty') }));
  }

  /** Closes the active editor; returns the text of a dialog that asks something instead, or "" once its tab is gone. */
  async closeActiveEditor(): Promise<string> {
    const title = (await this.activeTab()).title;
    await this.runCommand('View: Close Editor');
    const dialog = this.page.locator(sel.dialog).first();
    const tab = this.page.locator(`.part.editor .tab[aria-label="${title.replace(/"/g, '\\"')}"]`);
    const deadline = Date.now() + STEP_TIMEOUT;
    for (;;) {
      if (await dialog.isVisible()) return ((await dialog.textContent()) ?? '').replace(/\s+/g, ' ').trim();
      if ((await tab.count()) === 0) return '';
      if (Date.now() > deadline) throw new Error(`the tab "${title}" did not close`);
      await this.page.waitForTimeout(100);
    }
  }

  /** Waits until a webview (a Markdown preview…) shows text matching `re` and returns its text. */
  async waitForWebviewText(re: RegExp, timeout = STEP_TIMEOUT): Promise<string> {
    const deadline = Date.now() + timeout;
    let last: string[] = [];
    for (;;) {
      last = [];
      for (const frame of this.page.frames()) {
        const text = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
        if (re.test(text)) return text;
        if (text) last.push(text.slice(0, 200));
      }
      if (Date.now() > deadline) throw new Error(`no webview shows ${re} within ${timeout} ms; frames: ${JSON.stringify(last)}`);
      await this.page.waitForTimeout(250);
    }
  }

  /**
   * The active editor's text as rendered (lines in order, "\n"-joined). Monaco renders only the
   * lines in view, so this is the whole text only for documents that fit on screen.
   */
  async activeEditorText(): Promise<string> {
    await this.page.locator(sel.activeEditor).first().waitFor({ state: 'visible' });
    return this.page.evaluate((q) => {
      const lines = Array.from(document.querySelectorAll<HTMLElement>(q)).sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
      return lines.map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ')).join('\n');
    }, sel.activeEditorLines);
  }

  /** Waits until the active editor's text matches (a string: equals it) and returns the text. */
  async waitForActiveEditorText(expected: string | RegExp, timeout = STEP_TIMEOUT): Promise<string> {
    const want = typeof expected === 'string' ? { exact: expected } : { source: expected.source, flags: expected.flags };
    try {
      await this.page.waitForFunction(
        ({ q, want }) => {
          const lines = Array.from(document.querySelectorAll<HTMLElement>(q)).sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
          const text = lines.map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ')).join('\n');
          return lines.length > 0 && ('exact' in want ? text === want.exact : new RegExp(want.source!, want.flags).test(text));
        },
        { q: sel.activeEditorLines, want },
        { timeout },
      );
    } catch (err) {
      const text = await this.activeEditorText().catch(() => '(no editor)');
      throw new Error(`active editor text ${JSON.stringify(text)} does not match ${String(expected)} within ${timeout} ms`, { cause: err });
    }
    return this.activeEditorText();
  }

  /**
   * Waits for the active editor to be a diff editor whose left (original) and right (modified)
   * sides show these texts (lines "\n"-joined; a RegExp matches anywhere), and returns them with
   * the tab's title.
   */
  async waitForDiffEditor(original: string | RegExp, modified: string | RegExp, timeout = STEP_TIMEOUT): Promise<{ original: string; modified: string; title: string }> {
    const read = (q: string) =>
      this.page.evaluate((sel) => {
        const lines = Array.from(document.querySelectorAll<HTMLElement>(sel)).sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
        return lines.map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ')).join('\n');
      }, q);
    const fits = (text: string, want: string | RegExp) => (typeof want === 'string' ? text === want : want.test(text));
    const deadline = Date.now() + timeout;
    for (;;) {
      const got = { original: await read(sel.diffOriginalLines), modified: await read(sel.diffModifiedLines) };
      if (fits(got.original, original) && fits(got.modified, modified)) {
        const title = ((await this.page.locator(sel.activeTabLabel).first().textContent()) ?? '').trim();
        return { ...got, title };
      }
      if (Date.now() > deadline) throw new Error(`no diff editor showing ${String(original)} ↔ ${String(modified)} within ${timeout} ms; it shows ${JSON.stringify(got)}`);
      await this.page.waitForTimeout(200);
    }
  }
}

/**
 * Opens a new page on a code-server, opens `folder` and returns the workbench for it.
 */
export async function openWorkbench(browser: Browser, baseUrl: string, folder: string): Promise<Workbench> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const wb = new Workbench(page, baseUrl);
  await wb.openFolder(folder);
  return wb;
}
