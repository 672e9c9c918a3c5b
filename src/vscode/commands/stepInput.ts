/**
 * One quick input that walks through several steps, as VS Code's own multi-step inputs do: each
 * step shows "n/total" in its title, a Back button from the second step on, and the current value
 * filled in. Every step is a new quick pick or input box, shown where the last one was; the
 * caller keeps the answers and decides which step comes next (setUpFlow.ts).
 */
import * as vscode from 'vscode';

/** What a step answers: the value, 'back' (the Back button), or undefined (Escape: the whole flow ends). */
export type StepAnswer<T> = T | 'back' | undefined;

export interface StepPlace {
  title: string;
  step: number;
  totalSteps: number;
}

/** A title-bar button of an input box and what it does (Browse…: fills the box). */
export interface StepButton {
  button: vscode.QuickInputButton;
  run(box: vscode.InputBox): Promise<void>;
}

export function pickStep<T extends vscode.QuickPickItem>(place: StepPlace, items: readonly T[], options: { active?: T; placeholder?: string } = {}): Promise<StepAnswer<T>> {
  const pick = vscode.window.createQuickPick<T>();
  Object.assign(pick, place, { items, ignoreFocusOut: true, buttons: backButton(place) });
  if (options.placeholder) pick.placeholder = options.placeholder;
  if (options.active) pick.activeItems = [options.active];
  return settle<T>(pick, (done) => [
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
      if (chosen) done(chosen);
    }),
  ]);
}

export function inputStep(
  place: StepPlace,
  options: { value: string; prompt: string; placeholder?: string; validate?: (value: string) => string | undefined; buttons?: StepButton[] },
): Promise<StepAnswer<string>> {
  const box = vscode.window.createInputBox();
  const buttons = options.buttons ?? [];
  Object.assign(box, place, { value: options.value, prompt: options.prompt, ignoreFocusOut: true, buttons: [...backButton(place), ...buttons.map((b) => b.button)] });
  if (options.placeholder) box.placeholder = options.placeholder;
  const check = (): string | undefined => options.validate?.(box.value.trim());
  box.validationMessage = box.value === '' ? undefined : check();
  return settle<string>(box, (done, away) => [
    box.onDidChangeValue(() => (box.validationMessage = check())),
    box.onDidAccept(() => {
      const problem = check();
      box.validationMessage = problem;
      if (problem === undefined) done(box.value.trim());
    }),
    box.onDidTriggerButton(async (pressed) => {
      const own = buttons.find((b) => b.button === pressed);
      if (!own) return;
      // The folder dialog hides the box (in code-server it is a quick input itself): that is not Escape.
      await away(() => own.run(box));
      box.validationMessage = check();
    }),
  ]);
}

/** Shows the input and resolves with its answer; Back and Escape are handled here for every step. */
function settle<T>(
  input: vscode.QuickPick<vscode.QuickPickItem> | vscode.InputBox,
  listen: (done: (value: T) => void, away: (body: () => Promise<void>) => Promise<void>) => vscode.Disposable[],
): Promise<StepAnswer<T>> {
  return new Promise((resolve) => {
    let settled = false;
    let elsewhere = false;
    /** Runs `body` while the input may be hidden, then shows it again. */
    const away = async (body: () => Promise<void>): Promise<void> => {
      elsewhere = true;
      try {
        await body();
      } finally {
        elsewhere = false;
        if (!settled) input.show();
      }
    };
    const finish = (answer: StepAnswer<T>): void => {
      if (settled) return;
      settled = true;
      for (const d of disposables) d.dispose();
      input.dispose();
      resolve(answer);
    };
    const disposables = [
      ...listen((value) => finish(value), away),
      input.onDidTriggerButton((b) => {
        if (b === vscode.QuickInputButtons.Back) finish('back');
      }),
      input.onDidHide(() => {
        if (!elsewhere) finish(undefined);
      }),
    ];
    input.show();
  });
}

function backButton(place: StepPlace): vscode.QuickInputButton[] {
  return place.step > 1 ? [vscode.QuickInputButtons.Back] : [];
}
