"""Softmax turns scores into probabilities: the three cases of the notes on rectifiers,
rounded to 3 decimals as the notes round them."""

import tinygrad_es as tg

CASES = {
    "Case 1: one clear winner": [3, 0.7, 0.5],
    "Case 2: a close call": [1.2, 1, 1.5],
    "Case 3: ten classes, one slightly ahead": [1.5] + [1.2] * 9,
}


def main():
    for title, scores in CASES.items():
        probabilities = tg.tensor(scores, dtype=tg.float64).softmax()
        print(f"{title}\n  scores        {scores}\n  probabilities {[round(p, 3) for p in probabilities.tolist()]}")
        print(f"  sum = {probabilities.sum().item():.3f}, most likely class: {probabilities.data.argmax()}")


if __name__ == "__main__":
    main()
