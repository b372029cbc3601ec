; Low-Light Enhance for a whole folder, from GIMP 3's Script-Fu (batch-enhance.scm is the GIMP 2.10 version:
; GIMP 3 changed file loading and saving, file-glob's result and how plug-ins are called).
;
; Headless, from a shell (the output folder must exist; existing files in it are replaced; GIMP 3's batch
; interpreter forgets definitions between -b commands, so loading and calling go into one):
;   gimp-console-3.0 -i --quit --batch-interpreter=plug-in-script-fu-eval \
;     -b '(begin (load "/path/to/batch-enhance-gimp3.scm")
;                (lowlight-batch-enhance "/photos/dark" "/photos/bright" 1.0 "default"))'
;
; Copied into GIMP's scripts folder (~/.config/GIMP/3.0/scripts/) it also appears as
; Filters > Enhance > Low-Light Enhance a Folder...
;
; Every image file GIMP loads (.png .jpg .jpeg .jpe .tif .tiff .webp .bmp .tga .ppm .pgm .pnm .psd .xcf,
; either case) in IN-DIR is loaded, its layers are merged (palette images become RGB), plug-in-lowlight-enhance
; runs on the result (automatic device and tile size) and the image is saved under the same name in OUT-DIR,
; in the format of its extension. A file that fails is named in a message and skipped; the others go on.
; GIF is not processed (its export needs a palette image again).

(define lowlight-batch-extensions
  '("png" "jpg" "jpeg" "jpe" "tif" "tiff" "webp" "bmp" "tga" "ppm" "pgm" "pnm" "psd" "xcf"))

(define (lowlight-batch-basename path)
  (let loop ((parts (strbreakup path "/")))
    (if (null? (cdr parts)) (car parts) (loop (cdr parts)))))

(define (lowlight-batch-glob pattern)
  (car (file-glob #:pattern pattern #:filename-encoding TRUE)))

(define (lowlight-batch-files in-dir)
  (let loop ((exts lowlight-batch-extensions) (files '()))
    (if (null? exts)
        files
        (loop (cdr exts)
              (append files
                      (lowlight-batch-glob (string-append in-dir "/*." (car exts)))
                      (lowlight-batch-glob (string-append in-dir "/*." (string-upcase (car exts)))))))))

; (thunk)'s value, or on an error the error's message as a string (Script-Fu's catch drops the message).
(define (lowlight-batch-try thunk)
  (let ((outer *error-hook*))
    (let ((result
           (call-with-current-continuation
            (lambda (escape)
              (set! *error-hook*
                    (lambda args
                      (escape (list 'failed (if (and (pair? args) (string? (car args))) (car args) "error")))))
              (list 'done (thunk))))))
      (set! *error-hook* outer)
      result)))

(define (lowlight-batch-enhance-file path out-dir strength model)
  (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE path)))
         (out (string-append out-dir "/" (lowlight-batch-basename path)))
         (done (lowlight-batch-try
                (lambda ()
                  (if (= (car (gimp-image-get-base-type image)) INDEXED) (gimp-image-convert-rgb image))
                  (let ((layer (car (gimp-image-merge-visible-layers image CLIP-TO-IMAGE))))
                    (plug-in-lowlight-enhance #:run-mode RUN-NONINTERACTIVE #:image image #:drawables (vector layer)
                                              #:strength strength #:model model #:device "auto" #:tile-size 0)
                    (gimp-file-save RUN-NONINTERACTIVE image out -1))))))
    (gimp-image-delete image)
    (if (eq? (car done) 'failed) (error (cadr done)))
    out))

(define (lowlight-batch-report count failed out-dir)
  (gimp-message (string-append "Low-Light Enhance: " (number->string count) " image(s) written to " out-dir
                               (if (null? failed)
                                   ""
                                   (string-append ", " (number->string (length failed)) " failed: "
                                                  (unbreakupstr (reverse failed) ", "))))))

; Returns the number of images written.
(define (lowlight-batch-enhance in-dir out-dir strength model)
  (let loop ((files (lowlight-batch-files in-dir)) (count 0) (failed '()))
    (if (null? files)
        (begin (lowlight-batch-report count failed out-dir) count)
        (let* ((path (car files))
               (done (lowlight-batch-try (lambda () (lowlight-batch-enhance-file path out-dir strength model)))))
          (if (eq? (car done) 'done)
              (loop (cdr files) (+ count 1) failed)
              (begin
                (gimp-message (string-append "Low-Light Enhance: " path " failed, skipped: " (cadr done)))
                (loop (cdr files) count (cons (lowlight-batch-basename path) failed))))))))

(define (script-fu-lowlight-batch-enhance in-dir out-dir strength model)
  (lowlight-batch-enhance in-dir out-dir strength model))

(script-fu-register-procedure "script-fu-lowlight-batch-enhance"
  "Low-Light Enhance a _Folder..."
  "Enhances every image in a folder with plug-in-lowlight-enhance and saves the results into another folder"
  "Lowlight contributors"
  "2024"
  SF-DIRNAME "Input folder" ""
  SF-DIRNAME "Output folder" ""
  SF-ADJUSTMENT "Strength" '(1 0 1 0.05 0.1 2 0)
  SF-STRING "Model" "default")
(script-fu-menu-register "script-fu-lowlight-batch-enhance" "<Image>/Filters/Enhance")
