### 讀者網頁，繁體中文。每個鍵在 en.ftl 中也有（有測試檢查）。

site-name = 圖書館帳戶
skip-to-content = 跳至主要內容
switch-language = English
language-name = 繁體中文
sign-in = 登入
sign-out = 登出
nav-label = 主選單
nav-account = 我的帳戶
nav-catalogue = 館藏目錄
nav-info = 我的資訊
nav-settings = 我的設定
nav-ask = 問問圖書館員
nav-libraries = 圖書館
nav-help = 說明
footer-text = 對帳戶有疑問？請使用「問問圖書館員」，或帶同圖書證到任何圖書館查詢。
reason-unknown = 要求未獲接納（{ $code }）。
too-many-attempts = 嘗試次數過多，請於 { $minutes } 分鐘後再試。

## Errors
error-home = 前往我的帳戶
error-not-found-title = 找不到網頁
error-not-found = 沒有這個網頁。網頁可能已移動，或網址有誤。
error-too-large-title = 內容過長
error-too-large = 送出的表格過大，請縮短後再試。
error-bad-request-title = 無法理解要求
error-bad-request = 無法理解網址或表格內容。
error-unavailable-title = 服務暫停
error-unavailable = 服務暫時未能使用，沒有任何資料被更改。請數分鐘後再試。
form-expired-title = 請再試一次
form-expired = 這份表格已過期或並非從本網站送出，因此沒有任何更改。請重新載入網頁後再送出。
form-expired-back = 重新載入網頁

## Flash messages after a change
done-signed-out = 你已登出。
done-password-changed = 你的密碼已更改。
done-reset-requested = 如這個電郵地址屬於圖書館帳戶，臨時密碼已經寄出。臨時密碼於 24 小時內有效，只可登入一次。
done-nothing-selected = 請先選取要續借的項目。
done-nothing-to-renew = 你沒有借出的項目可以續借。
done-hold-placed = 預約已完成。
done-hold-cancelled = 預約已取消。
done-hold-not-found = 找不到該項預約。
done-hold-ended = 該項預約已經結束。
done-activity-registered = 你已報名參加活動。
done-activity-cancelled = 你的報名已取消。
done-enquiry-sent = 你的問題已送出，圖書館員會在此回覆。
done-settings-saved = 你的設定已儲存。
done-pin-changed = 你的個人密碼已更改。

## Fields
field-card-number = 圖書證號碼
field-password = 密碼
field-current-password = 現有密碼（或臨時密碼）
field-new-password = 新密碼
field-confirm-password = 再次輸入新密碼
field-email = 電郵地址
field-password-for-email = 密碼（只在更改電郵地址時需要）
field-sms = 接收短訊的手提電話號碼
field-language = 語言
field-keep-history = 保留我的借閱紀錄
field-new-pin = 新個人密碼
field-subject = 主題
field-message = 你的問題
field-library-optional = 圖書館（可選）

## Sign in
sign-in-title = 登入
sign-in-intro = 請以圖書證號碼及密碼登入。
sign-in-button = 登入
sign-in-invalid = 圖書證號碼或密碼不正確。
sign-in-default-hint = 首次登入？你的密碼是登記電話號碼的最後 4 位數字；登入後須設定新密碼。
forgot-link = 忘記密碼？
back-to-sign-in = 返回登入

## Password
password-title = 更改密碼
password-forced = 請先設定新密碼才可繼續。你現時使用的是預設或臨時密碼。
password-rules-title = 新密碼必須：
password-button = 更改密碼
password-confirm-mismatch = 兩次輸入的新密碼不相同。
password-current-wrong = 密碼不正確。
password-link = 更改你的密碼
password-must = 新密碼必須{ $rule }。
password-rule-too-short = 最少有 8 個字元
password-rule-too-long = 最多有 128 個字元
password-rule-missing-uppercase = 包含一個大楷英文字母（A–Z）
password-rule-missing-lowercase = 包含一個小楷英文字母（a–z）
password-rule-missing-digit = 包含一個數字（0–9）
password-rule-common-password = 不是常見密碼（例如 Password1）
password-rule-contains-personal-info = 不包含你的圖書證號碼、電話號碼數字、姓名或電郵地址
password-rule-same-as-current = 與現有密碼不同
password-rule-control-character = 不包含隱形或控制字元

## Forgot password
forgot-title = 忘記密碼？
forgot-intro = 請輸入在圖書館帳戶登記的電郵地址，我們會把臨時密碼寄到該地址。
forgot-button = 寄出臨時密碼
forgot-email-invalid = 請輸入電郵地址。
forgot-no-email = 沒有登記電郵地址或已忘記？請親臨任何圖書館要求重設密碼。

## My Account
account-title = 我的帳戶
account-greeting = { $name }，你好
account-card-expires = 圖書證有效期至 { $date }
account-suspended = 你可於 { $date } 起再借閱。
account-as-of = 資料截至 { $at }。
loans-title = 借出項目
loans-none = 你沒有借出的項目。
loans-select = 選取
loans-select-one = 選取《{ $title }》
renewals-left = 尚可續借 { $count } 次
loan-overdue = 逾期 { $days } 天，罰款暫計 { $amount }
renew-selected = 續借已選項目
renew-all = 全部續借
renew-results-title = 續借結果
renew-done = 已續借：《{ $title }》。
renew-refused = 未能續借：《{ $title }》。{ $reason }
renewal-refused-too-many-renewals = 這個項目已用完續借次數。
renewal-refused-on-hold-for-another = 另一位讀者已預約這個書目。
renewal-refused-patron-suspended = 你的借閱權暫停中。
renewal-refused-fines-over-limit = 你的欠款超過上限，請先繳付。
renewal-refused-card-expired = 你的圖書證已過期，請到圖書館續期。
renewal-refused-too-soon = 現在續借這個項目為時過早。
renewal-refused-not-found = 這項借閱已不在你的帳戶中。
holds-title = 預約
holds-none = 你沒有預約。
holds-find = 尋找可預約的館藏。
hold-cancel = 取消
hold-cancel-one = 取消預約《{ $title }》
hold-status-queued = 輪候中
hold-status-waiting = 可供領取
hold-status-collected = 已領取
hold-status-expired = 逾期未領取
hold-status-cancelled = 已取消
charges-title = 費用
charges-outstanding = 未繳款項（包括仍在累計的罰款）：
charges-hint = 費用可在任何圖書館服務台繳付。
charge-overdue = 逾期罰款，{ $days } 天（{ $item }）
charge-hold-fee = 預約費
charge-lost-item = 遺失物品的重置費（{ $item }）
charge-lost-processing = 遺失物品的手續費（{ $item }）
charge-outstanding = 未繳
charge-paid = 已繳
charge-waived = 已豁免
history-link = 借閱紀錄
history-title = 借閱紀錄
history-none = 沒有已歸還的借閱紀錄。
history-off = 你的借閱紀錄現時不獲保留，可在「我的設定」開啟。
history-since = 自 { $date } 起保留。
back-to-account = 返回我的帳戶
col-title = 書名
col-due = 到期日
col-renewals-left = 續借
col-fine = 逾期
col-library = 圖書館
col-status = 狀況
col-position = 輪候位置
col-pickup = 取書圖書館
col-pickup-by = 領取限期
col-action = 操作
col-date = 日期
col-reason = 原因
col-amount = 金額
col-outstanding = 未繳
col-borrowed = 借出日期
col-returned = 歸還日期
col-event = 活動名稱
col-time = 時間
col-venue = 地點
col-type = 類別
col-places = 名額
col-library-name = 圖書館名稱
col-content = 內容
col-kind = 類別
col-today = 今天
col-next-open = 下次開放

## Catalogue
catalogue-title = 館藏目錄
search-label = 書名、作者或國際標準書號
search-button = 搜尋
search-library-label = 計算館藏於
search-all-libraries = 所有圖書館
search-copies-at = 只計算{ $library }的館藏。
search-hint = 每個字詞都須出現在書名、作者或國際標準書號中。
search-count = { $count ->
    [0] 找不到結果。
   *[other] 找到 { $count } 個書目。
}
search-availability = 現有 { $available } 本可借（共 { $copies } 本）
search-q-missing = 請輸入搜尋字詞。
search-q-too-long = 搜尋字詞過長。
search-page-invalid = 沒有這一頁結果。
search-per-page-invalid = 不提供這個每頁結果數目。
search-unknown-library = 沒有這間圖書館。
reserve-pickup = 取書地點
reserve-button = 預約
reserve-sign-in = 登入以預約
hold-refused = 未能預約：{ $reason }
hold-refused-already-on-loan = 你已借出這個書目。
hold-refused-already-on-hold = 你已預約這個書目。
hold-refused-quota-reached = 你的預約數目已達上限。
hold-refused-fines-over-limit = 你的欠款超過上限。
hold-refused-patron-suspended = 你的借閱權暫停中。
hold-refused-card-expired = 你的圖書證已過期。
hold-refused-title-not-found = 找不到這個書目。
hold-refused-unknown-library = 沒有這間取書圖書館。
pager-label = 結果頁數
pager-previous = 上一頁
pager-next = 下一頁
pager-position = 第 { $page } 頁，共 { $pages } 頁

## My Info
info-title = 我的資訊
activities-title = 推廣活動
activities-none = 暫時沒有即將舉行的活動。
activity-register = 報名
activity-register-one = 報名參加「{ $title }」
activity-cancel = 取消報名
activity-cancel-one = 取消報名「{ $title }」
activity-registered = 已報名
activity-places = 尚餘 { $left } 個名額（共 { $capacity } 個）
activity-type-story-time = 故事時間
activity-type-talk = 講座
activity-type-workshop = 工作坊
activity-refused-cancelled = 活動已取消。
activity-refused-already-registered = 你已經報名。
activity-refused-started = 活動已經開始。
activity-refused-closed = 報名已截止。
activity-refused-full = 活動已額滿。
activity-refused-not-found = 找不到該活動或報名。
notices-title = 圖書館通告
notices-none = 暫時沒有通告。
notice-all-libraries = 所有圖書館

## My Setting
settings-title = 我的設定
settings-contact = 聯絡資料
settings-password-hint = 只在更改電郵地址時需要，因為臨時密碼會寄到該地址。
settings-password-required = 更改電郵地址須輸入密碼。
settings-channels = 以下列方式接收通知
channel-email = 電郵
channel-sms = 短訊
settings-preferences = 偏好
settings-save = 儲存設定
settings-email-invalid = 這不是有效的電郵地址。
settings-sms-number-invalid = 這不是有效的手提電話號碼。
settings-no-channel-address = 請為所選的每種方式提供電郵地址或手提電話號碼。
pin-title = 更改個人密碼
pin-intro = 個人密碼用於電話續借、自助借書機及自助圖書站。
pin-rules = 4 至 12 位數字；不可容易被猜中（例如 1234、0000 或年份）。
pin-button = 更改個人密碼
pin-rule-not-digits = 個人密碼只可包含數字。
pin-rule-too-short = 個人密碼最少有 4 位數字。
pin-rule-too-long = 個人密碼最多有 12 位數字。
pin-rule-trivial-pin = 這個個人密碼太容易被猜中。
pin-rule-same-as-current = 新個人密碼必須與現有的不同。

## Ask a Librarian
ask-title = 問問圖書館員
ask-intro = 歡迎查詢任何有關圖書館或你帳戶的問題，答覆會在下面顯示。
ask-any-library = 任何圖書館
ask-button = 送出問題
enquiries-title = 你的問題
enquiries-none = 你還沒有提出問題。
enquiry-waiting = 等候答覆。
enquiry-answered = 於 { $at } 答覆：
enquiry-subject-missing = 請填寫主題。
enquiry-subject-too-long = 主題最多 200 個字元。
enquiry-subject-invalid = 主題包含不容許的字元。
enquiry-message-missing = 請填寫你的問題。
enquiry-message-too-long = 問題最多 4,000 個字元。
enquiry-message-invalid = 問題包含不容許的字元。
enquiry-unknown-library = 沒有這間圖書館。

## Libraries
libraries-title = 圖書館
libraries-today = 今天是 { $date }。
libraries-none = 暫時沒有圖書館。
library-open = 開放
library-closed = 休館
library-kind-central = 中央圖書館
library-kind-major = 主要圖書館
library-kind-district = 分區圖書館
library-kind-small = 小型圖書館
library-kind-mobile = 流動圖書館

## Help
help-title = 說明
help-topic-password = 密碼
help-topic-pin = 個人密碼
help-topic-account = 你的帳戶
help-q-1 = 「密碼」和「個人密碼」有甚麼分別？
help-a-1 = 「密碼」用於登入網上服務：即這些網頁，以續借、預約及管理帳戶。「個人密碼」用於電話續借、自助借書機及自助圖書站。
help-q-2 = 我怎樣知道我的密碼和個人密碼？
help-a-2 = 如你從未更改，兩者均為登記電話號碼的最後 4 位數字。以預設密碼登入後，須先設定新密碼才可使用其他服務。
help-q-3 = 怎樣的密碼才符合要求？
help-a-3 = 最少 8 個字元，包括大楷英文字母、小楷英文字母及數字。常見密碼（例如 Password1 或 Summer2025）及包含你的圖書證號碼、電話號碼數字、姓名或電郵地址的密碼均不獲接納。「更改密碼」網頁會在你輸入時逐項檢查。
help-q-4 = 怎樣更改密碼？
help-a-4 = 登入後打開「我的設定」，選擇「更改你的密碼」，並輸入現有密碼。你在其他地方的登入會全部登出。
help-q-5 = 我忘記了密碼，怎樣重設？
help-a-5 = 在登入網頁選擇「忘記密碼？」，輸入帳戶登記的電郵地址。臨時密碼會寄到該地址，於 24 小時內有效，只可登入一次，登入後須設定新密碼。每個帳戶每小時最多寄出 3 個臨時密碼。如沒有登記電郵地址，請親臨任何圖書館要求重設。
help-q-6 = 怎樣更改個人密碼？
help-a-6 = 登入後打開「我的設定」，在「更改個人密碼」輸入密碼及新個人密碼。
help-q-7 = 個人密碼有甚麼要求？
help-a-7 = 4 至 12 位數字，而且不可容易被猜中，例如 1234、0000、2580 或年份。
help-q-8 = 我的個人密碼為甚麼不能使用？
help-a-8 = 連續輸入錯誤個人密碼 10 次後，個人密碼會被停用，以防有人逐一嘗試。你可在「我的設定」以密碼設定新的個人密碼，或到任何圖書館要求重設為預設值。
help-q-9 = 每次可借多久？可續借多少次？
help-a-9 = 大部分項目借期為 14 天，可連續續借 5 次，每次由續借日起計 14 天，除非另一位讀者已預約該書目。你最多可借 10 個項目。
help-q-10 = 逾期罰款是多少？
help-a-10 = 成人項目在到期日後每天罰款港幣 1.50 元（暫停收取罰款期間的日子不計）。「我的帳戶」會顯示每個逾期項目的累計罰款。欠款達港幣 100.00 元時，須先繳付才可借閱、續借或預約。
help-q-11 = 預約要收費嗎？
help-a-11 = 每個項目港幣 3.30 元，在領取時收取。項目可供領取時你會收到通知；項目會在你選擇的圖書館保留 7 個開放日。
